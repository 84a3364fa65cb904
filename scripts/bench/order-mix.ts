/**
 * The orders a load sends: a deterministic mix of two-line orders, a share of which
 * fails on purpose (insufficient points or out of stock) so that compensations run.
 */

/** The rows a load draws orders from. */
export interface OrderMixFixture {
  /** Users with points enough for every order of the run. */
  richUserIds: number[];
  /** Users without points: their orders end InsufficientPoints (payment refused, stock released). */
  poorUserIds: number[];
  /** Products with stock enough for every order of the run. */
  stockedProductIds: number[];
  /** Products without stock: an order with one ends OutOfStock. */
  emptyProductIds: number[];
  /** Bearer tokens of the users (tokens.ts), sent with their orders; absent: no Authorization header. */
  tokens?: ReadonlyMap<number, string>;
}

/** One order to send and the outcome the mix expects of it. */
export interface PlannedOrder {
  body: string;
  /** The bearer token of the order's user, when the fixture has tokens. */
  token?: string | undefined;
  expect: 'CONFIRMED' | 'InsufficientPoints' | 'OutOfStock';
}

/** The headers of `planned`'s request: JSON, and its user's bearer token when it has one. */
export function orderHeaders(planned: PlannedOrder): Record<string, string> {
  return { 'content-type': 'application/json', ...(planned.token ? { authorization: `Bearer ${planned.token}` } : {}) };
}

/** Small deterministic PRNG (mulberry32), so every run sends the same mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Order mix: two lines per order (two distinct products, one unit each). A share
 * `failShare` fails on purpose, half on insufficient points, half on stock.
 */
export function orderMix(fixture: OrderMixFixture, failShare: number, seed = 1): () => PlannedOrder {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  return () => {
    const roll = random();
    const first = pick(fixture.stockedProductIds);
    let second = pick(fixture.stockedProductIds);
    while (second === first) second = pick(fixture.stockedProductIds);
    let userId = pick(fixture.richUserIds);
    let expect: PlannedOrder['expect'] = 'CONFIRMED';
    if (roll < failShare / 2) {
      userId = pick(fixture.poorUserIds);
      expect = 'InsufficientPoints';
    } else if (roll < failShare) {
      second = pick(fixture.emptyProductIds);
      expect = 'OutOfStock';
    }
    const items = [
      { productId: first, quantity: 1 },
      { productId: second, quantity: 1 },
    ];
    return { body: JSON.stringify({ userId, items }), expect, token: fixture.tokens?.get(userId) };
  };
}

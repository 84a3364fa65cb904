/**
 * The orders a load sends: a deterministic mix of two-line orders, a share of which
 * fails on purpose (insufficient points or out of stock) so that compensations run, and
 * a share of which uses a coupon (the saga's extra coupon step).
 */

/** One issued coupon of the bench's open campaigns and its owner. */
export interface BenchCoupon {
  userId: number;
  couponId: number;
}

/**
 * The coupons a run may use, each at most once: a coupon order takes the next one, so
 * every level, warm-up and system of a run draws from one pool (a coupon used twice would
 * be refused, `CouponAlreadyUsed`, and count as an unexpected outcome).
 */
export class CouponPool {
  readonly #coupons: readonly BenchCoupon[];
  #next = 0;

  constructor(coupons: readonly BenchCoupon[]) {
    this.#coupons = coupons;
  }

  /** The next unused coupon, or undefined once all were taken. */
  take(): BenchCoupon | undefined {
    return this.#coupons[this.#next++];
  }

  /** How many coupons were taken so far. */
  get taken(): number {
    return Math.min(this.#next, this.#coupons.length);
  }
}

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
  /** Coupons of rich users for the bench's open campaigns; absent: no coupon orders. */
  coupons?: CouponPool;
}

/** One order to send and the outcome the mix expects of it. */
export interface PlannedOrder {
  body: string;
  /** The bearer token of the order's user, when the fixture has tokens. */
  token?: string | undefined;
  expect: 'CONFIRMED' | 'InsufficientPoints' | 'OutOfStock';
  /** Whether the order names a coupon (expected CONFIRMED with its discount). */
  coupon?: boolean;
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
 * `failShare` fails on purpose, half on insufficient points, half on stock; a further
 * share `couponShare` (0..1) is placed by the owner of the pool's next coupon, naming it
 * (without coupons left: an order without one).
 */
export function orderMix(fixture: OrderMixFixture, failShare: number, seed = 1, couponShare = 0): () => PlannedOrder {
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
    const coupon = roll >= failShare && roll < failShare + couponShare ? fixture.coupons?.take() : undefined;
    if (coupon) userId = coupon.userId;
    const items = [
      { productId: first, quantity: 1 },
      { productId: second, quantity: 1 },
    ];
    const body = coupon ? { userId, items, couponId: coupon.couponId } : { userId, items };
    return { body: JSON.stringify(body), expect, token: fixture.tokens?.get(userId), ...(coupon && { coupon: true }) };
  };
}

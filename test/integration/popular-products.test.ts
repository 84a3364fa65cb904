/**
 * Popular products (issue 16) against PostgreSQL: CONFIRMED orders written by the
 * activities with their outbox rows as the pivot writes them, the ranking consumer drained
 * (db/ranking.ts), and `GET /products/popular` answering from the aggregate. Each event
 * counts once: redelivered, drained again, or raced by concurrent consumers. Bounds are
 * refused with 400. With 10,000 confirmed orders in the window the route's latency is
 * printed (not asserted) and its plan reads only the aggregate and the catalog. No
 * Temporal server: the route never reaches it. The ranking is global and other suites may
 * sell on the same database, so each test looks at its own products within it.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { pino } from 'pino';
import { consumeRankingBatch, drainRanking, POPULAR_PRODUCTS_SQL, readPopularProducts } from '../../db/ranking.ts';
import { OUTBOX_CHANNEL } from '../../common/outbox.ts';
import { poolQuery, type Orm } from '../../db/orm.ts';
import { startRankingConsumer } from '../../worker/ranking-consumer.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createProduct, createUser } from '../helpers/db.ts';
import { expectProblem } from '../helpers/http.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';
import {
  confirmOrderThroughActivities,
  isConsumed,
  removeSeededOrders,
  salesOf,
  seedConfirmedOrders,
  writePivotEvent,
} from '../helpers/ranking.ts';
import { SagaRows } from '../helpers/saga-rows.ts';
import { pollUntil } from '../helpers/waiting.ts';

let api: TestApi;
let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  api = await startTestApi();
  orm = api.orm;
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

interface Ranked {
  productId: number;
  name: string;
  units: number;
  revenueWon: number;
}

async function get(path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(new URL(path, api.url));
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** The ranking's products among `productIds`, as `[productId, units, revenueWon]`, in the answer's order. */
async function rankingOf(productIds: number[], days: number): Promise<[number, number, number][]> {
  const res = await get(`/products/popular?days=${days}&limit=50`);
  expect(res.status).toBe(200);
  expectRankedOrder(res.body.products);
  return (res.body.products as Ranked[]).filter((p) => productIds.includes(p.productId)).map((p) => [p.productId, p.units, p.revenueWon]);
}

/** Expects `products` by units desc, then revenue desc, then product id. */
function expectRankedOrder(products: Ranked[]): void {
  const sorted = [...products].sort((a, b) => b.units - a.units || b.revenueWon - a.revenueWon || a.productId - b.productId);
  expect(products).toEqual(sorted);
}

/** Today in UTC less `n` days, `YYYY-MM-DD`. */
function utcDaysAgo(n: number): string {
  return new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
}

describe('GET /products/popular', () => {
  it('ranks products by units sold in CONFIRMED orders over the window, with revenue; cancelled and running orders never count', async () => {
    const [a, b, c, d] = [await createProduct(orm, 100_000, 1_000), await createProduct(orm, 100_000, 2_000), await createProduct(orm, 100_000, 500), await createProduct(orm, 100_000, 700)];
    const buyer = await createUser(orm, 100_000_000);
    const o1 = await confirmOrderThroughActivities(sagas.acts, buyer, [{ productId: a, quantity: 300 }, { productId: b, quantity: 100 }]);
    const o2 = await confirmOrderThroughActivities(sagas.acts, buyer, [{ productId: b, quantity: 200 }]);
    const o3 = await confirmOrderThroughActivities(sagas.acts, buyer, [{ productId: c, quantity: 500 }]);
    const old = await confirmOrderThroughActivities(sagas.acts, buyer, [{ productId: d, quantity: 1_000 }]);
    await sagas.outOfStockOrder(buyer, a, 200_000);
    const running = await sagas.newOrder(buyer, a, 7);
    await sagas.acts.reserveStock({ orderId: running.orderId });
    for (const o of [o1, o2, o3]) await writePivotEvent(orm, o.orderId);
    await writePivotEvent(orm, old.orderId, new Date(Date.now() - 5 * 86_400_000));

    const drained = await drainRanking(orm);
    expect(drained.consumed).toBeGreaterThanOrEqual(4);
    expect(await rankingOf([a, b, c, d], 3)).toEqual([[c, 500, 250_000], [b, 300, 600_000], [a, 300, 300_000]]);
    expect(await rankingOf([a, b, c, d], 30)).toEqual([[d, 1_000, 700_000], [c, 500, 250_000], [b, 300, 600_000], [a, 300, 300_000]]);
    expect(await salesOf(orm, [d])).toEqual([{ productId: d, day: utcDaysAgo(5), units: 1_000, revenueWon: 700_000 }]);

    const top = await get('/products/popular');
    expect(top.status).toBe(200);
    expect(top.body).toEqual({ days: 3, limit: 5, since: utcDaysAgo(2), products: expect.any(Array) });
    expect(top.body.products.length).toBeLessThanOrEqual(5);
    const two = await get('/products/popular?days=3&limit=2');
    expect(two.body.products).toEqual(top.body.products.slice(0, 2));
    expect((await get(`/products/${a}`)).body).toMatchObject({ id: a });
  });

  it('never counts a redelivered or drained-again event twice; a running consumer counts an announced event', async () => {
    const p = await createProduct(orm, 1_000, 1_000);
    const buyer = await createUser(orm, 1_000_000);
    const first = await confirmOrderThroughActivities(sagas.acts, buyer, [{ productId: p, quantity: 4 }]);
    await writePivotEvent(orm, first.orderId);
    await drainRanking(orm);
    const once = [{ productId: p, day: utcDaysAgo(0), units: 4, revenueWon: 4_000 }];
    expect(await salesOf(orm, [p])).toEqual(once);

    // The relay sends it again (PENDING, another attempt) and the pivot's insert is retried.
    await poolQuery(orm, `update data_platform_deliveries set status = 'PENDING', attempts = attempts + 1 where event_id = $1`, [first.eventId]);
    await writePivotEvent(orm, first.orderId);
    await drainRanking(orm);
    expect((await consumeRankingBatch(orm.em.fork())).consumed).toBe(0);
    expect(await salesOf(orm, [p])).toEqual(once);

    const consumer = startRankingConsumer(orm, pino({ level: 'silent' }), { databaseUrl: api.config.database.url, pollMs: 600_000 });
    try {
      await consumer.passNow();
      const second = await confirmOrderThroughActivities(sagas.acts, buyer, [{ productId: p, quantity: 2 }]);
      await writePivotEvent(orm, second.orderId);
      await poolQuery(orm, 'select pg_notify($1, $2)', [OUTBOX_CHANNEL, second.eventId]);
      await pollUntil('the consumer woken by NOTIFY to count the second order', () => isConsumed(orm, second.eventId), { timeoutMs: 30_000 });
    } finally {
      await consumer.stop();
    }
    expect(await salesOf(orm, [p])).toEqual([{ productId: p, day: utcDaysAgo(0), units: 6, revenueWon: 6_000 }]);
  });

  it('concurrent consumers count every event exactly once, while another holds a batch uncommitted', async () => {
    const products = [await createProduct(orm, 0, 1_000), await createProduct(orm, 0, 1_500), await createProduct(orm, 0, 900)];
    const buyer = await createUser(orm, 0);
    const seeded = await seedConfirmedOrders(orm, buyer, products, 600, 3);
    try {
      let drains: Promise<{ consumed: number }[]> | undefined;
      await orm.em.fork().transactional(async (em) => {
        const held = await consumeRankingBatch(em, 50);
        expect(held.consumed).toBe(50);
        // Four consumers start while that batch is uncommitted: they skip its outbox rows,
        // and wait for its aggregate rows; it commits once one of them waits on it.
        drains = Promise.all([1, 2, 3, 4].map(() => drainRanking(orm, 16)));
        const [{ pid }] = (await em.execute<{ pid: number }[]>('select pg_backend_pid() as pid')) as [{ pid: number }];
        await pollUntil('a consumer waiting on the uncommitted batch', async () => {
          const [row] = await poolQuery<{ n: number }>(orm, 'select count(*)::int as n from pg_stat_activity where $1::int = any(pg_blocking_pids(pid))', [pid]);
          return row!.n > 0;
        });
      });
      const results = await drains!;
      expect(results.reduce((n, r) => n + r.consumed, 0)).toBeGreaterThanOrEqual(550);
      const [mine] = await poolQuery<{ consumed: number }>(
        orm,
        `select count(*)::int as consumed from ranking_consumed_events c join data_platform_deliveries d on d.event_id = c.event_id
         join orders o on o.workflow_id = d.saga_id where o.request_hash = $1`,
        [seeded.tag],
      );
      expect(mine!.consumed).toBe(600);
      const units = new Map<number, number>();
      for (const row of await salesOf(orm, products)) units.set(row.productId, (units.get(row.productId) ?? 0) + row.units);
      expect(units).toEqual(seeded.unitsByProduct);
    } finally {
      await removeSeededOrders(orm, seeded, products);
    }
  });

  it.each([
    ['days=0', 'days'],
    ['days=31', 'days'],
    ['days=-1', 'days'],
    ['days=1.5', 'days'],
    ['days=03', 'days'],
    ['days=', 'days'],
    ['days=abc', 'days'],
    ['days=3&days=4', 'days'],
    ['limit=0', 'limit'],
    ['limit=51', 'limit'],
    ['limit=5e1', 'limit'],
    ['top=5', undefined],
  ])('refuses %s with 400 ValidationFailed', async (query, field) => {
    const res = await get(`/products/popular?${query}`);
    expectProblem(res, 400, 'ValidationFailed', '/products/popular');
    if (field !== undefined) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
  });
});

describe('GET /products/popular with 10,000 confirmed orders in the window', () => {
  it('answers from the aggregate (its plan reads no order nor outbox row) and prints its latency', async () => {
    const products = await Promise.all(Array.from({ length: 20 }, (_, i) => createProduct(orm, 0, 1_000 + i)));
    const buyer = await createUser(orm, 0);
    const seeded = await seedConfirmedOrders(orm, buyer, products, 10_000, 3);
    try {
      await drainRanking(orm);
      const expected = [...seeded.unitsByProduct].sort(([pa, ua], [pb, ub]) => ub - ua || (1_000 + products.indexOf(pb)) * ub - (1_000 + products.indexOf(pa)) * ua || pa - pb);
      expect((await rankingOf(products, 3)).map(([id, units]) => [id, units])).toEqual(expected);

      const plan = await poolQuery<{ 'QUERY PLAN': unknown }>(orm, `explain (analyze, format json) ${POPULAR_PRODUCTS_SQL}`, [3, 5]);
      expect([...new Set(relationsOf(plan[0]!['QUERY PLAN']))].sort()).toEqual(['product_sales_daily', 'products']);

      const samples: number[] = [];
      for (let i = 0; i < 520; i++) {
        const started = performance.now();
        const res = await fetch(new URL('/products/popular?days=3&limit=5', api.url));
        await res.arrayBuffer();
        if (i >= 20) samples.push(performance.now() - started);
        expect(res.status).toBe(200);
      }
      const reads: number[] = [];
      for (let i = 0; i < 520; i++) {
        const started = performance.now();
        await readPopularProducts(orm, 3, 5);
        if (i >= 20) reads.push(performance.now() - started);
      }
      console.log(
        `popular products, 10,000 confirmed orders in the window, 500 calls each: GET /products/popular ${percentiles(samples)}; ` +
          `the read model's statement alone ${percentiles(reads)}`,
      );
    } finally {
      await removeSeededOrders(orm, seeded, products);
    }
  });
});

/** Every `Relation Name` in an EXPLAIN (FORMAT JSON) plan. */
function relationsOf(plan: unknown): string[] {
  if (Array.isArray(plan)) return plan.flatMap(relationsOf);
  if (plan === null || typeof plan !== 'object') return [];
  const node = plan as Record<string, unknown>;
  const own = typeof node['Relation Name'] === 'string' ? [node['Relation Name']] : [];
  return [...own, ...Object.values(node).flatMap(relationsOf)];
}

/** p50, p99 and max of `samples` (ms), as text. */
function percentiles(samples: number[]): string {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
}

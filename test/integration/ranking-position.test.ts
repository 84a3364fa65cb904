/**
 * The ranking consumer's position (db/ranking.ts): a pass reads the outbox's
 * `order.confirmed` rows from its position on, not the whole history, and the position
 * never passes a row that is not consumed yet, even one whose transaction began before and
 * committed after a row that was consumed (the order of `occurred_at`, ids and commits differ).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { poolQuery, type Orm } from '../../db/orm.ts';
import { drainRanking, RANKING_CONSUMER } from '../../db/ranking.ts';
import { createProduct, createUser, openTestOrm } from '../helpers/db.ts';
import { confirmOrderThroughActivities, isConsumed, removeSeededOrders, salesOf, seedConfirmedOrders } from '../helpers/ranking.ts';
import { SagaRows } from '../helpers/saga-rows.ts';
import { pollUntil } from '../helpers/waiting.ts';

let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  orm = await openTestOrm();
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await orm?.close();
});

async function position(): Promise<bigint> {
  const [row] = await poolQuery<{ xid: string }>(orm, 'select scanned_below_xid::text as xid from ranking_consumer_position where consumer = $1', [RANKING_CONSUMER]);
  return BigInt(row!.xid);
}

describe('ranking consumer position', () => {
  it('counts a row committed after a later row was consumed: the position waits below it', async () => {
    const productId = await createProduct(orm, 10, 1_000);
    const userId = await createUser(orm, 100_000);
    const early = await confirmOrderThroughActivities(sagas.acts, userId, [{ productId, quantity: 1 }]);
    // The early order's event is written again by a transaction that stays open while a
    // later order confirms and is consumed (a pivot that took long to commit).
    await poolQuery(orm, 'delete from data_platform_deliveries where event_id = $1', [early.eventId]);
    let lateXid = 0n;
    await orm.em.fork().transactional(async (em) => {
      await em.execute(
        `insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, occurred_at, created_at)
         select ?, o.workflow_id, 'order.confirmed', 'PENDING', 0,
                jsonb_build_object('orderId', o.id, 'userId', o.user_id, 'lines',
                  (select jsonb_agg(jsonb_build_object('productId', l.product_id, 'quantity', l.quantity, 'unitPriceWon', l.unit_price_won))
                   from order_lines l where l.order_id = o.id)),
                o.confirmed_at, now()
         from orders o where o.id = ?`,
        [early.eventId, early.orderId],
      );
      const [xid] = await em.execute<{ xid: string }[]>('select pg_current_xact_id()::text as xid');
      lateXid = BigInt(xid!.xid);
      const later = await confirmOrderThroughActivities(sagas.acts, userId, [{ productId, quantity: 2 }]);
      await drainRanking(orm);
      expect(await isConsumed(orm, later.eventId)).toBe(true);
      expect(await position()).toBeLessThanOrEqual(lateXid);
    });
    await drainRanking(orm);
    expect(await isConsumed(orm, early.eventId)).toBe(true);
    expect((await salesOf(orm, [productId])).map((s) => s.units)).toEqual([3]);
  });

  it('once the history is consumed, a pass reads only the rows written since', async () => {
    const products = [await createProduct(orm, 0, 1_000), await createProduct(orm, 0, 2_000)];
    const buyer = await createUser(orm, 0);
    const seeded = await seedConfirmedOrders(orm, buyer, products, 2_000, 3);
    try {
      await drainRanking(orm);
      // A transaction elsewhere in the cluster may hold the horizon back for a moment.
      await pollUntil('a pass that reads none of the consumed history', async () => (await drainRanking(orm)).scanned === 0, { timeoutMs: 30_000 });
      const productId = await createProduct(orm, 10, 1_000);
      const userId = await createUser(orm, 10_000);
      const fresh = await confirmOrderThroughActivities(sagas.acts, userId, [{ productId, quantity: 1 }]);
      const pass = await drainRanking(orm);
      expect(pass.scanned).toBeLessThan(100);
      expect(pass.consumed).toBeGreaterThanOrEqual(1);
      expect(await isConsumed(orm, fresh.eventId)).toBe(true);
    } finally {
      await removeSeededOrders(orm, seeded, products);
    }
  });
});

/**
 * The activities against PostgreSQL, called directly: each is idempotent under
 * at-least-once delivery, and a compensation that runs first blocks a late forward step.
 * The stock steps given the order's lines, and their interleavings with each other and
 * with the pivot, are in inventory-steps.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { failureType } from '../helpers/failures.ts';
import type { Orm } from '../../db/orm.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import type { DataPlatformClient } from '../../activities/data-platform.ts';
import { orderWorkflowId, stepKey } from '../../common/ids.ts';
import { balanceOf, createProduct, createUser, ledgerOf, openTestOrm, stockOf, testConfig } from '../helpers/db.ts';
import { pollUntil } from '../helpers/waiting.ts';

let orm: Orm;
let acts: Activities;
const sent: string[] = [];
const recordingPlatform: DataPlatformClient = {
  async send(event) {
    sent.push(event.eventId);
    return { status: 201, duplicate: false };
  },
};

beforeAll(async () => {
  orm = await openTestOrm();
  acts = createActivities({ orm, dataPlatform: recordingPlatform });
});

afterAll(async () => {
  await orm?.close();
});

async function newOrder(quantity = 2, stock = 10, balance = 10_000) {
  const productId = await createProduct(orm, stock, 1_000);
  const userId = await createUser(orm, balance);
  const orderId = randomUUID();
  const workflowId = orderWorkflowId(orderId);
  await acts.createOrder({ orderId, userId, workflowId, requestHash: 'h', items: [{ productId, quantity }] });
  return { productId, userId, orderId, workflowId };
}

describe('activities are idempotent', () => {
  it('createOrder twice writes one order with one set of lines', async () => {
    const { orderId, userId, workflowId, productId } = await newOrder();
    const again = await acts.createOrder({ orderId, userId, workflowId, requestHash: 'h', items: [{ productId, quantity: 2 }] });
    expect(again).toMatchObject({ status: 'PENDING', totalWon: 2_000, lines: [{ productId, quantity: 2, unitPriceWon: 1_000 }] });
    const rows = await orm.em.fork().execute('select id from order_lines where order_id = ?', [orderId]);
    expect(rows).toHaveLength(1);
  });

  it('createOrder that loses the insert race to an overlapping attempt returns the order that attempt committed', async () => {
    const productId = await createProduct(orm, 10, 1_000);
    const userId = await createUser(orm, 0);
    const orderId = randomUUID();
    const workflowId = orderWorkflowId(orderId);
    // The overlapping attempt: its order row is written but not committed yet.
    const other = new pg.Client({ connectionString: testConfig().database.url });
    await other.connect();
    try {
      await other.query('begin');
      const { rows } = await other.query<{ pid: number }>('select pg_backend_pid() as pid');
      await other.query(
        `insert into orders (id, user_id, status, total_won, workflow_id, request_hash, created_at, updated_at)
         values ($1, $2, 'PENDING', 2000, $3, 'h', now(), now())`,
        [orderId, userId, workflowId],
      );
      await other.query('insert into order_lines (order_id, product_id, quantity, unit_price_won) values ($1, $2, 2, 1000)', [orderId, productId]);
      const attempt = acts.createOrder({ orderId, userId, workflowId, requestHash: 'h', items: [{ productId, quantity: 2 }] });
      // This attempt's insert waits on the other's uncommitted key; then the other commits.
      await pollUntil('createOrder to wait on the uncommitted order row', async () => {
        const waiting = await orm.em.fork().execute('select pid from pg_stat_activity where ? = any(pg_blocking_pids(pid))', [rows[0]!.pid]);
        return waiting.length === 1;
      });
      await other.query('commit');

      expect(await attempt).toMatchObject({ orderId, status: 'PENDING', totalWon: 2_000, lines: [{ productId, quantity: 2, unitPriceWon: 1_000 }] });
    } finally {
      await other.end();
    }
  });

  it('reserveStock retried takes stock once; releaseStock retried returns it once', async () => {
    const { orderId, productId } = await newOrder(3);
    await acts.reserveStock({ orderId });
    await acts.reserveStock({ orderId });
    expect(await stockOf(orm, productId)).toBe(7);
    await acts.releaseStock({ orderId });
    await acts.releaseStock({ orderId });
    expect(await stockOf(orm, productId)).toBe(10);
  });

  it('a late reserveStock after its release is refused and takes nothing', async () => {
    const { orderId, productId } = await newOrder(3);
    await acts.releaseStock({ orderId });
    expect(await failureType(acts.reserveStock({ orderId }))).toBe('SagaAlreadyCompensated');
    expect(await stockOf(orm, productId)).toBe(10);
  });

  it('reserveStock takes nothing when one line is short, and says OutOfStock', async () => {
    const { orderId, productId } = await newOrder(11, 10);
    expect(await failureType(acts.reserveStock({ orderId }))).toBe('OutOfStock');
    expect(await stockOf(orm, productId)).toBe(10);
  });

  it('payWithPoints retried charges once; refundPoints retried refunds once', async () => {
    const { userId, workflowId } = await newOrder();
    const pay = { userId, amountPoints: 2_000, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') };
    await acts.payWithPoints(pay);
    await acts.payWithPoints(pay);
    expect(await balanceOf(orm, userId)).toBe(8_000);
    const refund = { userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') };
    await acts.refundPoints(refund);
    await acts.refundPoints(refund);
    expect(await balanceOf(orm, userId)).toBe(10_000);
    expect((await ledgerOf(orm, userId)).map((e) => [e.kind, e.amountPoints])).toEqual([
      ['TOP_UP', 10_000],
      ['PAYMENT', 2_000],
      ['REFUND', 2_000],
    ]);
  });

  it('a late payWithPoints after its refund is refused and charges nothing', async () => {
    const { userId, workflowId } = await newOrder();
    await acts.refundPoints({ userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') });
    const late = acts.payWithPoints({ userId, amountPoints: 2_000, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
    expect(await failureType(late)).toBe('SagaAlreadyCompensated');
    expect(await balanceOf(orm, userId)).toBe(10_000);
  });

  it('a late payWithPoints after its refund keeps the business reason when it still holds', async () => {
    const { userId, workflowId } = await newOrder(2, 10, 1_999);
    await acts.refundPoints({ userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') });
    const late = acts.payWithPoints({ userId, amountPoints: 2_000, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
    expect(await failureType(late)).toBe('InsufficientPoints');
    expect(await balanceOf(orm, userId)).toBe(1_999);
  });

  it('a late reserveStock after its release keeps the business reason when it still holds', async () => {
    const { orderId, productId } = await newOrder(11, 10);
    await acts.releaseStock({ orderId });
    expect(await failureType(acts.reserveStock({ orderId }))).toBe('OutOfStock');
    expect(await stockOf(orm, productId)).toBe(10);
  });

  it('payWithPoints refuses a payment above the balance and charges nothing', async () => {
    const { userId, workflowId } = await newOrder(2, 10, 1_999);
    const pay = acts.payWithPoints({ userId, amountPoints: 2_000, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
    expect(await failureType(pay)).toBe('InsufficientPoints');
    expect(await balanceOf(orm, userId)).toBe(1_999);
  });

  it('concurrent payments of one user never overdraw the balance', async () => {
    const userId = await createUser(orm, 5_000);
    const sagas = Array.from({ length: 10 }, () => orderWorkflowId(randomUUID()));
    const results = await Promise.allSettled(
      sagas.map((sagaId) => acts.payWithPoints({ userId, amountPoints: 1_000, sagaId, idempotencyKey: stepKey(sagaId, 'pay') })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(await balanceOf(orm, userId)).toBe(0);
  });

  it('confirmOrder retried confirms once and commits the reserved stock; cancelOrder then changes nothing', async () => {
    const { orderId, userId, workflowId, productId } = await newOrder();
    await acts.reserveStock({ orderId });
    await acts.payWithPoints({ userId, amountPoints: 2_000, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
    await acts.confirmOrder({ orderId });
    expect(await acts.confirmOrder({ orderId })).toEqual({ orderId, status: 'CONFIRMED' });
    expect(await acts.cancelOrder({ orderId, reason: 'Cancelled', message: 'late' })).toEqual({ orderId, status: 'CONFIRMED' });
    await acts.releaseStock({ orderId });
    expect(await stockOf(orm, productId)).toBe(8);
  });

  it('confirmOrder refuses an order whose payment is missing', async () => {
    const { orderId } = await newOrder();
    await acts.reserveStock({ orderId });
    expect(await failureType(acts.confirmOrder({ orderId }))).toBe('SagaAlreadyCompensated');
  });

  it('notifyDataPlatform sends nothing again once the event is delivered', async () => {
    const { workflowId } = await newOrder();
    const event = { eventId: `${workflowId}:confirmed`, type: 'order.confirmed', occurredAt: new Date().toISOString(), payload: {} };
    await acts.notifyDataPlatform({ sagaId: workflowId, event });
    const again = await acts.notifyDataPlatform({ sagaId: workflowId, event });
    expect(again.duplicate).toBe(true);
    expect(sent.filter((id) => id === event.eventId)).toHaveLength(1);
  });

  it('notifyDataPlatform (sagas from before the outbox) writes the outbox row as the pivot would: the event payload and instant', async () => {
    const { workflowId } = await newOrder();
    const occurredAt = '2026-12-05T01:02:03.456Z';
    const event = { eventId: `${workflowId}:confirmed`, type: 'order.confirmed', occurredAt, payload: { orderId: 'x', totalWon: 5 } };
    await acts.notifyDataPlatform({ sagaId: workflowId, event });
    const [row] = await orm.em.fork().execute<{ payload: unknown; occurred_at: string }[]>(
      `select payload, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at from data_platform_deliveries where event_id = ?`,
      [event.eventId],
    );
    expect(row).toEqual({ payload: { orderId: 'x', totalWon: 5 }, occurred_at: occurredAt });
  });
});

/**
 * The invariant checker over payments, against PostgreSQL: `payments-match-ledger` passes
 * on payments written by the real activities (PAID, REFUNDED, none), with point
 * conservation; it detects each kind of mismatch planted behind the activities' back,
 * naming the saga; and the payments migration backfills the sagas paid before it from
 * their ledger rows, so the check holds for old rows too (on a scratch database migrated
 * step by step). Checks are scoped to this suite's rows.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { stepKey } from '../../common/ids.ts';
import { MIGRATIONS } from '../../db/migrations/index.ts';
import { BACKFILL_PAYMENTS_SQL } from '../../db/migrations/Migration20261204200100_payments.ts';
import { ensureDatabaseExists, openOrm, type Orm } from '../../db/orm.ts';
import { checkInvariants } from '../../invariants/index.ts';
import { createPerformance, createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { expectOk, SagaRows, violationsOf, type NewOrder } from '../helpers/saga-rows.ts';

const PAYMENTS_MIGRATION = 'Migration20261204200100_payments';

let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  orm = await openTestOrm();
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await orm?.close();
});

/** An order that paid, then was refunded (its pivot never ran) and closed CANCELLED. */
async function refundedOrder(userId: number, productId: number): Promise<NewOrder> {
  const o = await sagas.newOrder(userId, productId, 1);
  await sagas.acts.reserveStock({ orderId: o.orderId });
  await sagas.acts.payWithPoints({ userId, amountPoints: o.totalWon, sagaId: o.workflowId, idempotencyKey: stepKey(o.workflowId, 'pay') });
  await sagas.acts.refundPoints({ userId, sagaId: o.workflowId, idempotencyKey: stepKey(o.workflowId, 'refund') });
  await sagas.acts.releaseStock({ orderId: o.orderId });
  await sagas.acts.cancelOrder({ orderId: o.orderId, reason: 'Cancelled', message: 'cancelled after payment' });
  return o;
}

/** Runs `plant`, expects exactly one payments-match-ledger violation with `rule` on `sagaId`, then `undo`es it. */
async function expectViolation(userId: number, sagaId: string, rule: string, plant: string, undo: string): Promise<void> {
  await sagas.sql(plant, [sagaId]);
  try {
    const report = await sagas.check({ userIds: [userId] });
    expect(violationsOf(report, 'payments-match-ledger')).toEqual([expect.objectContaining({ rule, ids: expect.objectContaining({ sagaId }) })]);
  } finally {
    await sagas.sql(undo, [sagaId]);
  }
  await expectOk(await sagas.check({ userIds: [userId] }));
}

describe('payments-match-ledger on rows written by the activities', () => {
  it('passes on paid, refunded and unpaid sagas, with point conservation', async () => {
    const productId = await createProduct(orm, 10, 1_000);
    const [buyer, poor] = [await createUser(orm, 50_000), await createUser(orm, 500)];
    const { performanceId, seatIds } = await createPerformance(orm, 2, 10_000);
    const confirmed = await sagas.confirmedOrder(buyer, productId, 2);
    const refunded = await refundedOrder(buyer, productId);
    await sagas.unpaidOrder(poor, productId, 1);
    const reservation = await sagas.confirmedReservation(buyer, performanceId, seatIds);

    const report = await sagas.check({ userIds: [buyer, poor] });
    await expectOk(report);
    expect(report.checks.find((c) => c.name === 'payments-match-ledger')).toMatchObject({ passed: true, violations: [] });
    const rows = await sagas.sql('select saga_id, status, amount_won from payments where user_id in (?, ?) order by id', [buyer, poor]);
    expect(rows).toEqual([
      { saga_id: confirmed.workflowId, status: 'PAID', amount_won: 2_000 },
      { saga_id: refunded.workflowId, status: 'REFUNDED', amount_won: 1_000 },
      { saga_id: reservation.workflowId, status: 'PAID', amount_won: 20_000 },
    ]);
  });
});

describe('payments-match-ledger detects planted violations', () => {
  let userId: number;
  let paid: NewOrder;
  let refunded: NewOrder;
  let unpaid: NewOrder;

  beforeAll(async () => {
    const productId = await createProduct(orm, 10, 1_000);
    userId = await createUser(orm, 50_000);
    paid = await sagas.confirmedOrder(userId, productId, 3);
    refunded = await refundedOrder(userId, productId);
    unpaid = await sagas.outOfStockOrder(userId, productId, 100);
    await expectOk(await sagas.check({ userIds: [userId] }));
  });

  it('a PAYMENT ledger row without its payment row', async () => {
    // The row is moved out of the scope (another saga id and user) and back, rather than deleted.
    await expectViolation(
      userId,
      paid.workflowId,
      'every PAYMENT ledger row has its payment row',
      "update payments set saga_id = saga_id || ':hidden', user_id = -user_id where saga_id = ?",
      "update payments set saga_id = left(saga_id, -7), user_id = -user_id where saga_id = ? || ':hidden'",
    );
  });

  it('a payment whose amount differs from its PAYMENT', async () => {
    await expectViolation(
      userId,
      paid.workflowId,
      'a payment and its PAYMENT ledger row agree',
      'update payments set amount_won = amount_won + 1 where saga_id = ?',
      'update payments set amount_won = amount_won - 1 where saga_id = ?',
    );
  });

  it('a PAID payment whose saga was refunded', async () => {
    await expectViolation(
      userId,
      refunded.workflowId,
      'a PAID payment has no refund',
      "update payments set status = 'PAID', refunded_at = null where saga_id = ?",
      "update payments set status = 'REFUNDED', refunded_at = now() where saga_id = ?",
    );
  });

  it('a REFUNDED payment without its REFUND', async () => {
    await expectViolation(
      userId,
      paid.workflowId,
      'a REFUNDED payment has a REFUND of its amount',
      "update payments set status = 'REFUNDED', refunded_at = now() where saga_id = ?",
      "update payments set status = 'PAID', refunded_at = null where saga_id = ?",
    );
  });

  it('a payment of a saga that has no PAYMENT in the ledger', async () => {
    await expectViolation(
      userId,
      unpaid.workflowId,
      'a payment has its PAYMENT ledger row',
      `insert into payments (saga_id, user_id, amount_won, method, status, created_at, updated_at)
       select workflow_id, user_id, total_won, 'POINTS', 'PAID', now(), now() from orders where workflow_id = ?`,
      'delete from payments where saga_id = ?',
    );
  });
});

describe('the payments migration backfills sagas paid before it', () => {
  const base = new URL(testConfig().database.url);
  const scratchName = `${base.pathname.slice(1)}_backfill_${randomUUID().slice(0, 8)}`;
  const scratchUrl = Object.assign(new URL(base), { pathname: `/${scratchName}` }).toString();
  let scratch: Orm | undefined;

  afterAll(async () => {
    await scratch?.close();
    const admin = new pg.Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });
    await admin.connect();
    try {
      await admin.query(`drop database if exists "${scratchName}"`);
    } finally {
      await admin.end();
    }
  });

  it('writes PAID or REFUNDED payments from the PAYMENT and REFUND rows, none for a tombstone; idempotent', async () => {
    await ensureDatabaseExists(scratchUrl);
    scratch = await openOrm({ ...testConfig().database, url: scratchUrl, statementTimeoutMs: 0, queryTimeoutMs: 0, poolMax: 2 });
    const mine = MIGRATIONS.findIndex((m) => m.name === PAYMENTS_MIGRATION);
    await scratch.migrator.up({ to: MIGRATIONS[mine - 1]!.name });
    const run = (query: string, params: unknown[] = []) => scratch!.em.fork().execute(query, params as never[]);
    const [user] = (await run(`insert into app_users (name, created_at) values ('old', now()) returning id`)) as { id: number }[];
    const userId = user!.id;
    await run(`insert into point_accounts (user_id, balance_points, updated_at) values (?, 7000, now())`, [userId]);
    const ledger = (kind: string, amount: number, reference: string, at: string) =>
      run(
        `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at) values (?, ?, ?, ?, ?, ?)`,
        [userId, kind, amount, reference, `${reference}:${kind}`, at],
      );
    await ledger('TOP_UP', 10_000, 'top-up-1', '2026-11-01T00:00:00.000Z');
    await ledger('PAYMENT', 3_000, 'order-paid', '2026-11-02T10:00:00.000Z');
    await ledger('PAYMENT', 2_000, 'reservation-refunded', '2026-11-03T10:00:00.000Z');
    await ledger('REFUND', 2_000, 'reservation-refunded', '2026-11-03T10:05:00.000Z');
    await ledger('REFUND', 0, 'order-tombstone', '2026-11-04T10:00:00.000Z');

    expect((await scratch.migrator.up({ to: PAYMENTS_MIGRATION })).map((m) => m.name)).toEqual([PAYMENTS_MIGRATION]);

    const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::bigint as ${column}`;
    const payments = `select saga_id, user_id, amount_won, method, status, ${epochMs('created_at')}, ${epochMs('refunded_at')} from payments order by saga_id`;
    const expected = [
      { saga_id: 'order-paid', user_id: userId, amount_won: 3_000, method: 'POINTS', status: 'PAID', created_at: Date.parse('2026-11-02T10:00:00.000Z'), refunded_at: null },
      {
        saga_id: 'reservation-refunded',
        user_id: userId,
        amount_won: 2_000,
        method: 'POINTS',
        status: 'REFUNDED',
        created_at: Date.parse('2026-11-03T10:00:00.000Z'),
        refunded_at: Date.parse('2026-11-03T10:05:00.000Z'),
      },
    ];
    expect(await run(payments)).toEqual(expected);
    await run(BACKFILL_PAYMENTS_SQL);
    expect(await run(payments)).toEqual(expected);

    const report = await checkInvariants(scratch, { scope: { userIds: [userId] } });
    expect(violationsOf(report, 'payments-match-ledger')).toEqual([]);
    expect(violationsOf(report, 'point-conservation')).toEqual([]);
  });
});

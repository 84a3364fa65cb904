/**
 * The worker process crashes (SIGKILL) in the middle of order sagas, and a new worker
 * process finishes them: every saga ends exactly once, nothing is charged or released
 * twice, and the invariants hold.
 *
 * Real parts: a Temporal dev server (createLocal), PostgreSQL (test database), the mock
 * data platform and the API in this process, and the WORKER as a child process
 * (`node worker/main.ts`). Sagas are stopped at the chosen step by a row lock the test
 * holds (test/helpers/row-locks.ts); the kill happens once pg_stat_activity shows the
 * worker's statements waiting on it. Kill points, in one crash:
 * - A: stock reserved, blocked in payWithPoints (account row);
 * - B: paid, blocked in confirmOrder (order row);
 * - C: payment refused (InsufficientPoints), blocked in the compensation releaseStock (order row);
 * - D: paid, then cancelled, blocked in the compensation refundPoints (account row);
 * - F: payment committed but never reported: the worker reaches Temporal through a relay
 *   that the test freezes before letting the payment through, so the crash falls between
 *   the commit and the activity's completion and the retry must find the payment.
 * Sagas E finish before the crash and must not be touched by it.
 *
 * An activity cut off by the crash is retried once its 15 s start-to-close timeout
 * passes (activities do not heartbeat), so the recovery takes about that long.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pg from 'pg';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { orderWorkflowId } from '../../common/ids.ts';
import type { OrderOutcome } from '../../common/orders.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { checkInvariants, formatInvariantReport } from '../../db/invariants.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import { createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { envFor, killAllParts, pollUntil, startTcpRelay, startWorkerProcess, type Part, type TcpRelay } from '../helpers/processes.ts';
import { RowLocker, waitForBlocked, type BlockedBackend } from '../helpers/row-locks.ts';

const logger = pino({ level: 'warn' });
let env: TestWorkflowEnvironment;
let dataPlatform: DataPlatformServer;
let config: AppConfig;
let orm: Orm;
let api: RunningApiServer;
let observer: pg.Client;
const lockers: RowLocker[] = [];
let worker: Part | undefined;
let relay: TcpRelay | undefined;

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
  dataPlatform = createDataPlatformServer({ logger });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  config = testConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TASK_QUEUE: uniqueTaskQueue('crash-worker'),
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
    // The API answers 202 at once; the test follows the sagas through Temporal.
    ORDER_OUTCOME_WAIT_MS: '300',
    // Every blocked activity holds a pooled connection inside its transaction.
    DATABASE_POOL_MAX: '40',
  });
  orm = await openTestOrm(config);
  api = await startApiServer({ orm, client: env.client, config, logger }, { host: '127.0.0.1', port: 0 });
  observer = new pg.Client({ connectionString: config.database.url });
  await observer.connect();
});

afterAll(async () => {
  await worker?.stop(10_000);
  await killAllParts();
  await relay?.close();
  for (const locker of lockers) await locker.close().catch(() => {});
  await observer?.end();
  await api?.close();
  await dataPlatform?.close();
  await orm?.close();
  await env?.teardown();
});

async function openLocker(): Promise<RowLocker> {
  const locker = await RowLocker.open(config.database.url);
  lockers.push(locker);
  return locker;
}

/** One order of the test: who buys what, and what must come out. */
interface Saga {
  group: 'A' | 'B' | 'C' | 'D' | 'E' | 'F';
  userId: number;
  topUp: number;
  qtyP: number;
  qtyQ: number;
  orderId?: string;
}

const PRICE_P = 1_000;
const PRICE_Q = 500;
const total = (s: Saga) => s.qtyP * PRICE_P + s.qtyQ * PRICE_Q;

async function placeOrder(saga: Saga, productP: number, productQ: number): Promise<void> {
  const res = await callApi({ apiUrl: api.url }, 'POST', '/orders', {
    userId: saga.userId,
    items: [
      { productId: productP, quantity: saga.qtyP },
      { productId: productQ, quantity: saga.qtyQ },
    ],
  });
  // 201 when it already finished, 202 while it runs; nothing else is acceptable here.
  expect([201, 202]).toContain(res.status);
  saga.orderId = res.body.orderId;
}

const userList = (sagas: Saga[]) => sagas.map((s) => s.userId);
const orderList = (sagas: Saga[]) => sagas.map((s) => s.orderId!);
const anyOf = (values: (string | number)[]) => values.map(String).join('|');

/** Ledger movements per saga reference (workflow id): kind -> [amounts]. */
async function ledgerByReference(sagas: Saga[]): Promise<Map<string, Record<string, number[]>>> {
  const refs = sagas.map((s) => orderWorkflowId(s.orderId!));
  const { rows } = await observer.query<{ reference: string; kind: string; amount_points: number }>(
    'select reference, kind, amount_points from point_ledger where reference = any($1) order by id',
    [refs],
  );
  const byRef = new Map<string, Record<string, number[]>>(refs.map((r) => [r, {}]));
  for (const row of rows) (byRef.get(row.reference)![row.kind] ??= []).push(row.amount_points);
  return byRef;
}

async function orderStatuses(sagas: Saga[]): Promise<Map<string, { status: string; reason: string | null; lines: string[] }>> {
  const { rows } = await observer.query<{ id: string; status: string; cancellation_reason: string | null; lines: string[] }>(
    `select o.id, o.status, o.cancellation_reason,
            array(select r.status from stock_reservations r where r.order_id = o.id order by r.product_id) as lines
     from orders o where o.id = any($1::uuid[])`,
    [orderList(sagas)],
  );
  return new Map(rows.map((r) => [r.id, { status: r.status, reason: r.cancellation_reason, lines: r.lines }]));
}

/** Attempts of each activity type in a workflow's history (ActivityTaskStarted attempts, max per type). */
async function activityAttempts(workflowId: string): Promise<Record<string, number>> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const typeById = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeById.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeById.get(String(started.scheduledEventId)) ?? '?';
      attempts[type] = Math.max(attempts[type] ?? 0, started.attempt ?? 1);
    }
  }
  return attempts;
}

describe('worker crash (SIGKILL) in the middle of order sagas', () => {
  it('finishes every saga exactly once after a new worker starts: no double charge, no double release, invariants hold', async () => {
    const started = Date.now();
    const productP = await createProduct(orm, 1_000, PRICE_P);
    const productQ = await createProduct(orm, 1_000, PRICE_Q);
    const make = async (group: Saga['group'], n: number, topUp: number): Promise<Saga[]> =>
      Promise.all(
        Array.from({ length: n }, async (_, i) => ({ group, userId: await createUser(orm, topUp), topUp, qtyP: 1 + (i % 3), qtyQ: 1 + (i % 2) })),
      );
    const A = await make('A', 4, 100_000);
    const B = await make('B', 4, 100_000);
    const C = await make('C', 4, 1); // cannot pay: InsufficientPoints, then compensation
    const D = await make('D', 3, 100_000);
    const E = await make('E', 2, 100_000);
    const F = await make('F', 3, 100_000);
    const all = [...A, ...B, ...C, ...D, ...E, ...F];
    const blocked = [...A, ...B, ...C, ...D, ...F];

    // The first worker talks to Temporal through a relay the test can freeze.
    relay = await startTcpRelay(env.address);
    worker = await startWorkerProcess(envFor(config, { TEMPORAL_ADDRESS: relay.address }), 'worker#1');
    const firstWorker = worker;

    // E: finish before the crash.
    await Promise.all(E.map((s) => placeOrder(s, productP, productQ)));
    await Promise.all(E.map((s) => env.client.workflow.getHandle(orderWorkflowId(s.orderId!)).result()));

    // Everyone else reaches payWithPoints and waits on their account row.
    const payLockA = await openLocker();
    const payLockBCD = await openLocker();
    const payLockF = await openLocker();
    await payLockA.lock('point_accounts', userList(A));
    await payLockBCD.lock('point_accounts', userList([...B, ...C, ...D]));
    await payLockF.lock('point_accounts', userList(F));
    await Promise.all(blocked.map((s) => placeOrder(s, productP, productQ)));
    await waitForBlocked(observer, payLockA, { count: A.length, query: new RegExp(`point_accounts where user_id = (${anyOf(userList(A))}) for update`) });
    await waitForBlocked(observer, payLockF, { count: F.length, query: new RegExp(`point_accounts where user_id = (${anyOf(userList(F))}) for update`) });
    await waitForBlocked(observer, payLockBCD, { count: B.length + C.length + D.length, query: /from point_accounts where user_id = \d+ for update/ });

    // B, C, D: hold their order rows, then let the payment through. B and D pay and wait in
    // confirmOrder; C is refused, refundPoints leaves its tombstone, and releaseStock waits.
    const orderLock = await openLocker();
    await orderLock.lock('orders', orderList([...B, ...C, ...D]));
    await payLockBCD.release();
    await waitForBlocked(observer, orderLock, {
      count: B.length + D.length,
      query: new RegExp(`select status from orders where id = '(${anyOf(orderList([...B, ...D]))})' for update`),
    });
    await waitForBlocked(observer, orderLock, {
      count: C.length,
      query: new RegExp(`select id from orders where id = '(${anyOf(orderList(C))})' for update`),
    });

    // D: cancel while confirmOrder waits; its compensation refundPoints waits on the account.
    const refundLockD = await openLocker();
    await refundLockD.lock('point_accounts', userList(D));
    await Promise.all(D.map((s) => env.client.workflow.getHandle(orderWorkflowId(s.orderId!)).cancel()));
    const orphans: BlockedBackend[] = [
      ...(await waitForBlocked(observer, refundLockD, { count: D.length, query: new RegExp(`point_accounts where user_id = (${anyOf(userList(D))}) for update`) })),
      ...(await waitForBlocked(observer, payLockA, { count: A.length, query: /point_accounts/ })),
      ...(await waitForBlocked(observer, orderLock, { count: B.length + C.length + D.length, query: /from orders/ })),
    ];

    // F: cut the worker off from Temporal, then let the payment commit; its completion is lost.
    relay.freeze();
    await payLockF.release();
    await pollUntil('the payments of F to commit', async () => {
      const ledger = await ledgerByReference(F);
      return F.every((s) => ledger.get(orderWorkflowId(s.orderId!))!.PAYMENT?.length === 1);
    });

    // The state at the kill: effects so far are committed, the next step is not.
    const before = await ledgerByReference(blocked);
    const statusBefore = await orderStatuses(blocked);
    for (const s of blocked) {
      const ledger = before.get(orderWorkflowId(s.orderId!))!;
      const expected = { A: {}, B: { PAYMENT: [total(s)] }, C: { REFUND: [0] }, D: { PAYMENT: [total(s)] }, F: { PAYMENT: [total(s)] } }[s.group as 'A' | 'B' | 'C' | 'D' | 'F'];
      expect({ group: s.group, ledger }).toEqual({ group: s.group, ledger: expected });
      expect({ group: s.group, ...statusBefore.get(s.orderId!) }).toEqual({ group: s.group, status: 'PENDING', reason: null, lines: ['RESERVED', 'RESERVED'] });
    }

    // Crash.
    const killedAt = Date.now();
    const exit = await firstWorker.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    for (const locker of [payLockA, orderLock, refundLockD]) await locker.release();
    // The dead worker's statements get their locks now; their transactions must die with
    // the connection instead of committing anything.
    const orphanPids = orphans.map((o) => o.pid);
    await pollUntil('the dead worker\'s backends to end', async () => {
      const { rows } = await observer.query('select 1 from pg_stat_activity where pid = any($1)', [orphanPids]);
      return rows.length === 0;
    }, { timeoutMs: 30_000 });
    expect(await ledgerByReference(blocked)).toEqual(before);
    expect(await orderStatuses(blocked)).toEqual(statusBefore);

    // Recovery: a new worker process picks every saga up.
    worker = await startWorkerProcess(envFor(config), 'worker#2');
    const outcomes = new Map<string, OrderOutcome>();
    await Promise.all(
      all.map(async (s) => outcomes.set(s.orderId!, (await env.client.workflow.getHandle(orderWorkflowId(s.orderId!)).result()) as OrderOutcome)),
    );
    const recoveredMs = Date.now() - killedAt;

    // Every saga ended once, with the outcome of its group, in Temporal and in the database.
    const expectedOutcome: Record<Saga['group'], { status: string; reason?: string }> = {
      A: { status: 'CONFIRMED' },
      B: { status: 'CONFIRMED' },
      E: { status: 'CONFIRMED' },
      F: { status: 'CONFIRMED' },
      C: { status: 'CANCELLED', reason: 'InsufficientPoints' },
      D: { status: 'CANCELLED', reason: 'Cancelled' },
    };
    const statuses = await orderStatuses(all);
    const ledgers = await ledgerByReference(all);
    const balances = new Map(
      (await observer.query<{ user_id: number; balance_points: number }>('select user_id, balance_points from point_accounts where user_id = any($1)', [userList(all)])).rows.map(
        (r) => [r.user_id, r.balance_points],
      ),
    );
    for (const s of all) {
      const confirmed = expectedOutcome[s.group].status === 'CONFIRMED';
      const label = { group: s.group, orderId: s.orderId };
      expect({ ...label, ...outcomes.get(s.orderId!) }).toMatchObject({ ...label, ...expectedOutcome[s.group], totalWon: total(s) });
      expect({ ...label, ...statuses.get(s.orderId!) }).toEqual({
        ...label,
        status: expectedOutcome[s.group].status,
        reason: expectedOutcome[s.group].reason ?? null,
        lines: confirmed ? ['COMMITTED', 'COMMITTED'] : ['RELEASED', 'RELEASED'],
      });
      // Exactly one payment per paying saga, at most one refund, each of the right amount.
      const ledger = ledgers.get(orderWorkflowId(s.orderId!));
      const expectedLedger = confirmed ? { PAYMENT: [total(s)] } : s.group === 'C' ? { REFUND: [0] } : { PAYMENT: [total(s)], REFUND: [total(s)] };
      expect({ ...label, ledger }).toEqual({ ...label, ledger: expectedLedger });
      expect({ ...label, balance: balances.get(s.userId) }).toEqual({ ...label, balance: confirmed ? s.topUp - total(s) : s.topUp });
      const events = dataPlatform.events().filter((e) => e.eventId === `${orderWorkflowId(s.orderId!)}:confirmed`);
      expect({ ...label, events: events.length }).toEqual({ ...label, events: confirmed ? 1 : 0 });
    }

    // Stock back exactly: only the confirmed orders took units.
    const sold = (pick: (s: Saga) => number) => all.filter((s) => expectedOutcome[s.group].status === 'CONFIRMED').reduce((n, s) => n + pick(s), 0);
    const { rows: stock } = await observer.query<{ id: number; stock: number }>('select id, stock from products where id = any($1) order by id', [[productP, productQ]]);
    expect(stock).toEqual([
      { id: productP, stock: 1_000 - sold((s) => s.qtyP) },
      { id: productQ, stock: 1_000 - sold((s) => s.qtyQ) },
    ]);

    // The crash really cut those steps off: each was retried on the new worker.
    const retried = await Promise.all(
      blocked.map(async (s) => ({ group: s.group, attempts: await activityAttempts(orderWorkflowId(s.orderId!)) })),
    );
    const cutOff = { A: 'payWithPoints', B: 'confirmOrder', C: 'releaseStock', D: 'refundPoints', F: 'payWithPoints' } as const;
    for (const r of retried) expect({ group: r.group, attempts: r.attempts[cutOff[r.group as keyof typeof cutOff]] }).toEqual({ group: r.group, attempts: 2 });

    const report = await checkInvariants(orm, {
      scope: { productIds: [productP, productQ], userIds: userList(all), orderIds: orderList(all) },
      receivedEvents: dataPlatform.events(),
    });
    expect(formatInvariantReport(report)).toMatch(/all invariants hold$/);

    const confirmedCount = all.filter((s) => expectedOutcome[s.group].status === 'CONFIRMED').length;
    process.stderr.write(
      `crash-worker: ${all.length} sagas (${confirmedCount} CONFIRMED, ${all.length - confirmedCount} CANCELLED), ` +
        `recovered ${Math.round(recoveredMs / 1000)} s after the kill, ${Math.round((Date.now() - started) / 1000)} s in all\n`,
    );
  });
});

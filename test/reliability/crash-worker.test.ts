/**
 * The worker process crashes (SIGKILL) in the middle of order sagas, and a new worker
 * process finishes them: every saga ends exactly once, nothing is charged, refunded or
 * released twice, and the invariants hold. Run once with the sagas' database steps as
 * local activities (the default, ORDER_STEP_ACTIVITIES=local) and once as normal
 * (remote) activities.
 *
 * Real parts: a Temporal dev server (createLocal), PostgreSQL (test database), the mock
 * data platform and the API in this process, and the WORKER as a child process
 * (`node worker/main.ts`). Sagas are stopped at the chosen step by a row lock the test
 * holds (test/helpers/row-locks.ts); the kill happens once pg_stat_activity shows the
 * worker's statements waiting on it. Kill points, in one crash:
 * - A: stock reserved, blocked in payWithPoints (account row);
 * - B: paid, blocked in the pivot confirmOrder (order row);
 * - C: payment refused (InsufficientPoints), refundPoints left its tombstone, blocked in
 *   the compensation releaseStock (order row);
 * - D1: cancelled while blocked in payWithPoints; once the workflow has processed the
 *   cancellation, blocked in the compensation refundPoints (account row, queued behind
 *   the abandoned payment attempt, which dies with the worker: nothing was paid);
 * - D2: cancelled the same way, then the abandoned payment attempt is let through and
 *   commits, the compensation refunds it, and the saga is blocked in the compensation
 *   releaseStock (order row);
 * - F: the worker reaches Temporal through a relay that the test freezes before letting
 *   the payment through, so what the worker does next is committed but never reported:
 *   with remote steps the payment; with local steps the payment and the pivot too (the
 *   order is CONFIRMED in the database, not in the history).
 * Sagas E finish before the crash and must not be touched by it.
 *
 * (The pivot itself is not cancellable any more, see cancel-during-pivot.test.ts, so
 * the compensations are reached by a refused payment or a cancellation during the payment.)
 *
 * Recovery: a remote step cut off by the crash is retried once its 15 s start-to-close
 * timeout passes (activities do not heartbeat). Local steps run inside the workflow task,
 * which the worker keeps alive by heartbeats; the dead worker's task times out after the
 * 10 s workflow task timeout and the new worker re-runs every local step whose result
 * was not recorded yet. A workflow cancellation reaches a workflow blocked in a local
 * step only at the next heartbeat (~8 s), so D waits for the history to show it processed.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pg from 'pg';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { orderWorkflowId } from '../../common/ids.ts';
import type { OrderOutcome, StepActivities } from '../../common/orders.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { checkInvariants, formatInvariantReport } from '../../db/invariants.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import { createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { cancellationSeen, startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { envFor, killAllParts, pollUntil, startTcpRelay, startWorkerProcess, type Part, type TcpRelay } from '../helpers/processes.ts';
import { blockedBehind, RowLocker, type BlockedBackend } from '../helpers/row-locks.ts';

const EventType = temporal.api.enums.v1.EventType;
const logger = pino({ level: 'warn' });
let env: TestWorkflowEnvironment;
let dataPlatform: DataPlatformServer;
let dataPlatformUrl: string;
let orm: Orm;
let observer: pg.Client;

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
  dataPlatform = createDataPlatformServer({ logger });
  ({ url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1'));
  const config = testConfig();
  orm = await openTestOrm(config);
  observer = new pg.Client({ connectionString: config.database.url });
  await observer.connect();
});

afterAll(async () => {
  await killAllParts();
  await observer?.end();
  await dataPlatform?.close();
  await orm?.close();
  await env?.teardown();
});

/** One order of the test: who buys what, and what must come out. */
interface Saga {
  group: 'A' | 'B' | 'C' | 'D1' | 'D2' | 'E' | 'F';
  userId: number;
  topUp: number;
  qtyP: number;
  qtyQ: number;
  orderId?: string;
}
type Group = Saga['group'];

const PRICE_P = 1_000;
const PRICE_Q = 500;
const total = (s: Saga) => s.qtyP * PRICE_P + s.qtyQ * PRICE_Q;
const workflowIdOf = (s: Saga) => orderWorkflowId(s.orderId!);
const userList = (sagas: Saga[]) => sagas.map((s) => s.userId);
const orderList = (sagas: Saga[]) => sagas.map((s) => s.orderId!);

/** The statement each blocked step waits in (activities/points.ts, orders.ts, inventory.ts). */
const accountStatement = (s: Saga) => `select balance_points from point_accounts where user_id = ${s.userId} for update`; // payWithPoints, refundPoints
const confirmStatement = (s: Saga) => `select status from orders where id = '${s.orderId}' for update`; // confirmOrder
const releaseStatement = (s: Saga) => `select id from orders where id = '${s.orderId}' for update`; // releaseStock

/**
 * Resolves once, for every saga, at least `min` statements `statement(saga)` wait behind
 * `locker`, and returns everything waiting behind it. (At least, not exactly: a step
 * blocked longer than its 15 s start-to-close timeout is retried beside its abandoned
 * attempt, which keeps waiting; a cancelled payment attempt keeps waiting too.)
 *
 * @throws Error after 60 s, with what waits at that moment.
 */
async function waitForEach(locker: RowLocker, sagas: Saga[], statement: (s: Saga) => string, min = 1): Promise<BlockedBackend[]> {
  let waiting: BlockedBackend[] = [];
  try {
    await pollUntil(`${sagas.length} sagas to wait behind locker ${locker.pid}`, async () => {
      waiting = await blockedBehind(observer, locker);
      return sagas.every((s) => waiting.filter((b) => b.query === statement(s)).length >= min);
    }, { intervalMs: 50 });
  } catch (err) {
    throw new Error(`${(err as Error).message}; waiting now: ${JSON.stringify(waiting.map((b) => b.query))}`, { cause: err });
  }
  return waiting;
}

/** Ledger movements per saga reference (workflow id): kind -> [amounts]. */
async function ledgerByReference(sagas: Saga[]): Promise<Map<string, Record<string, number[]>>> {
  const refs = sagas.map(workflowIdOf);
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

/** One recorded result of a step in a workflow's history: who ran it, at which attempt. */
interface StepRun {
  identity: string;
  attempt: number;
}

/**
 * The recorded results (completed or failed) of every step in a workflow's history, by
 * activity type: for a remote step, the worker and attempt of its ActivityTaskStarted;
 * for a local step, its marker's attempt and the worker that completed the workflow task
 * recording it. Also how many workflow tasks timed out (a worker died holding one).
 */
async function stepRuns(workflowId: string): Promise<{ runs: Record<string, StepRun[]>; workflowTaskTimeouts: number }> {
  const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  const typeOf = (scheduledEventId: unknown) => byId.get(String(scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
  const runs: Record<string, StepRun[]> = {};
  let workflowTaskTimeouts = 0;
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) workflowTaskTimeouts += 1;
    const ended = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
    if (ended) {
      const started = byId.get(String(ended.startedEventId))?.activityTaskStartedEventAttributes;
      (runs[typeOf(ended.scheduledEventId)] ??= []).push({ identity: started?.identity ?? '?', attempt: started?.attempt ?? 0 });
    }
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const payload = marker.details?.data?.payloads?.[0]?.data;
      const data = payload ? (JSON.parse(Buffer.from(payload).toString()) as { activity_type: string; attempt: number }) : undefined;
      const task = byId.get(String(marker.workflowTaskCompletedEventId))?.workflowTaskCompletedEventAttributes;
      (runs[data?.activity_type ?? '?'] ??= []).push({ identity: task?.identity ?? '?', attempt: data?.attempt ?? 0 });
    }
  }
  return { runs, workflowTaskTimeouts };
}

describe.each(['local', 'remote'] as const)('worker crash (SIGKILL) in the middle of order sagas, %s step activities', (mode: StepActivities) => {
  let config: AppConfig;
  let api: RunningApiServer;
  let worker: Part | undefined;
  let relay: TcpRelay | undefined;
  const lockers: RowLocker[] = [];

  beforeAll(async () => {
    config = testConfig({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      TASK_QUEUE: uniqueTaskQueue(`crash-worker-${mode}`),
      DATA_PLATFORM_URL: dataPlatformUrl,
      DATA_PLATFORM_TIMEOUT_MS: '5000',
      // The API answers 202 at once; the test follows the sagas through Temporal.
      ORDER_OUTCOME_WAIT_MS: '300',
      ORDER_STEP_ACTIVITIES: mode,
      // Every blocked step holds a pooled connection inside its transaction.
      DATABASE_POOL_MAX: '40',
    });
    api = await startApiServer({ orm, client: env.client, config, logger }, { host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await worker?.stop(10_000);
    await relay?.close();
    for (const locker of lockers) await locker.close().catch(() => {});
    await api?.close();
  });

  async function openLocker(): Promise<RowLocker> {
    const locker = await RowLocker.open(config.database.url);
    lockers.push(locker);
    return locker;
  }

  async function placeOrders(sagas: Saga[], productP: number, productQ: number): Promise<void> {
    await Promise.all(
      sagas.map(async (saga) => {
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
      }),
    );
  }

  it('finishes every saga exactly once after a new worker starts: no double charge, refund or release, invariants hold', async () => {
    const started = Date.now();
    const productP = await createProduct(orm, 1_000, PRICE_P);
    const productQ = await createProduct(orm, 1_000, PRICE_Q);
    const make = async (group: Group, n: number, topUp: number): Promise<Saga[]> =>
      Promise.all(
        Array.from({ length: n }, async (_, i) => ({ group, userId: await createUser(orm, topUp), topUp, qtyP: 1 + (i % 3), qtyQ: 1 + (i % 2) })),
      );
    const A = await make('A', 3, 100_000);
    const B = await make('B', 3, 100_000);
    const C = await make('C', 3, 1); // cannot pay: InsufficientPoints, then compensation
    const D1 = await make('D1', 2, 100_000);
    const D2 = await make('D2', 2, 100_000);
    const E = await make('E', 2, 100_000);
    const F = await make('F', 3, 100_000);
    const all = [...A, ...B, ...C, ...D1, ...D2, ...E, ...F];
    const blocked = all.filter((s) => s.group !== 'E');

    // The first worker talks to Temporal through a relay the test can freeze.
    relay = await startTcpRelay(env.address);
    worker = await startWorkerProcess(envFor(config, { TEMPORAL_ADDRESS: relay.address }), `worker#1 (${mode})`);
    const firstWorker = worker;

    // E: finish before the crash.
    await placeOrders(E, productP, productQ);
    await Promise.all(E.map((s) => env.client.workflow.getHandle(workflowIdOf(s)).result()));

    // D1, D2: wait in payWithPoints on their account rows, and are cancelled there. The
    // workflow (with local steps: at its next workflow-task heartbeat) cancels the payment
    // and compensates: refundPoints queues behind the abandoned payment attempt.
    const payLockD1 = await openLocker();
    const payLockD2 = await openLocker();
    await payLockD1.lock('point_accounts', userList(D1));
    await payLockD2.lock('point_accounts', userList(D2));
    await placeOrders([...D1, ...D2], productP, productQ);
    await waitForEach(payLockD1, D1, accountStatement);
    await waitForEach(payLockD2, D2, accountStatement);
    const cancelledAt = Date.now();
    await Promise.all([...D1, ...D2].map((s) => env.client.workflow.getHandle(workflowIdOf(s)).cancel()));
    // Processed once the history shows a workflow task completed after the request.
    const cancellationProcessed = Promise.all([...D1, ...D2].map((s) => cancellationSeen(env.client.workflow.getHandle(workflowIdOf(s))))).then(() => Date.now() - cancelledAt);
    await waitForEach(payLockD1, D1, accountStatement, 2);
    await waitForEach(payLockD2, D2, accountStatement, 2);

    // A, B, C, F reach payWithPoints and wait on their account rows.
    const payLockA = await openLocker();
    const payLockBC = await openLocker();
    const payLockF = await openLocker();
    await payLockA.lock('point_accounts', userList(A));
    await payLockBC.lock('point_accounts', userList([...B, ...C]));
    await payLockF.lock('point_accounts', userList(F));
    await placeOrders([...A, ...B, ...C, ...F], productP, productQ);
    await waitForEach(payLockA, A, accountStatement);
    await waitForEach(payLockBC, [...B, ...C], accountStatement);
    await waitForEach(payLockF, F, accountStatement);

    // B, C: hold their order rows, then let the payment through. B pays and waits in
    // confirmOrder; C is refused, refundPoints leaves its tombstone, and releaseStock waits.
    const orderLock = await openLocker();
    await orderLock.lock('orders', orderList([...B, ...C]));
    await payLockBC.release();
    await waitForEach(orderLock, B, confirmStatement);
    await waitForEach(orderLock, C, releaseStatement);

    // C: the refusal is in the history before the crash (with local steps, recorded by the
    // next workflow-task heartbeat). A refusal the crash loses is not re-decided the same
    // way: the re-run payment meets the refund's tombstone, and the order is cancelled with
    // reason SagaAlreadyCompensated instead of InsufficientPoints.
    await pollUntil('the refusals of C to be recorded', async () => {
      const recorded = await Promise.all(C.map(async (s) => (await stepRuns(workflowIdOf(s))).runs.payWithPoints?.length === 1));
      return recorded.every(Boolean);
    }, { intervalMs: 200 });
    // D: wait until the workflows have processed the cancellation.
    const cancellationMs = await cancellationProcessed;
    // D2: let the abandoned payment through; it commits, the refund follows, releaseStock waits.
    const orderLockD2 = await openLocker();
    await orderLockD2.lock('orders', orderList(D2));
    await payLockD2.release();
    await waitForEach(orderLockD2, D2, releaseStatement);
    await pollUntil('the payments of D2 to be refunded', async () => {
      const ledger = await ledgerByReference(D2);
      return D2.every((s) => ledger.get(workflowIdOf(s))!.REFUND?.length === 1);
    });

    // F: cut the worker off from Temporal, then let the payment commit; what follows is
    // never reported. With local steps the pivot runs in the same workflow task and commits too.
    relay.freeze();
    await payLockF.release();
    await pollUntil('the payments of F to commit', async () => {
      const ledger = await ledgerByReference(F);
      const statuses = await orderStatuses(F);
      return F.every(
        (s) => ledger.get(workflowIdOf(s))!.PAYMENT?.length === 1 && (mode === 'remote' || statuses.get(s.orderId!)?.status === 'CONFIRMED'),
      );
    });

    // The state at the kill: effects so far are committed, the next step is not.
    const before = await ledgerByReference(blocked);
    const statusBefore = await orderStatuses(blocked);
    const pending = { status: 'PENDING', reason: null, lines: ['RESERVED', 'RESERVED'] };
    for (const s of blocked) {
      const t = total(s);
      const expected = {
        A: { ledger: {}, ...pending },
        B: { ledger: { PAYMENT: [t] }, ...pending },
        C: { ledger: { REFUND: [0] }, ...pending },
        D1: { ledger: {}, ...pending },
        D2: { ledger: { PAYMENT: [t], REFUND: [t] }, ...pending },
        E: undefined,
        F: mode === 'remote' ? { ledger: { PAYMENT: [t] }, ...pending } : { ledger: { PAYMENT: [t] }, status: 'CONFIRMED', reason: null, lines: ['COMMITTED', 'COMMITTED'] },
      }[s.group];
      expect({ group: s.group, ledger: before.get(workflowIdOf(s)), ...statusBefore.get(s.orderId!) }).toEqual({ group: s.group, ...expected });
    }

    // Crash.
    const orphans: BlockedBackend[] = [];
    for (const locker of [payLockA, payLockD1, orderLock, orderLockD2]) orphans.push(...(await blockedBehind(observer, locker)));
    const killedAt = Date.now();
    const exit = await firstWorker.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    for (const locker of [payLockA, payLockD1, orderLock, orderLockD2]) await locker.release();
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
    worker = await startWorkerProcess(envFor(config), `worker#2 (${mode})`);
    const secondWorker = worker;
    const outcomes = new Map<string, OrderOutcome>();
    await Promise.all(all.map(async (s) => outcomes.set(s.orderId!, (await env.client.workflow.getHandle(workflowIdOf(s)).result()) as OrderOutcome)));
    const recoveredMs = Date.now() - killedAt;

    // Every saga ended once, with the outcome of its group, in Temporal and in the database.
    const expectedOutcome: Record<Group, { status: string; reason?: string }> = {
      A: { status: 'CONFIRMED' },
      B: { status: 'CONFIRMED' },
      E: { status: 'CONFIRMED' },
      F: { status: 'CONFIRMED' },
      C: { status: 'CANCELLED', reason: 'InsufficientPoints' },
      D1: { status: 'CANCELLED', reason: 'Cancelled' },
      D2: { status: 'CANCELLED', reason: 'Cancelled' },
    };
    const isConfirmed = (s: Saga) => expectedOutcome[s.group].status === 'CONFIRMED';
    const statuses = await orderStatuses(all);
    const ledgers = await ledgerByReference(all);
    const balances = new Map(
      (await observer.query<{ user_id: number; balance_points: number }>('select user_id, balance_points from point_accounts where user_id = any($1)', [userList(all)])).rows.map(
        (r) => [r.user_id, r.balance_points],
      ),
    );
    for (const s of all) {
      const confirmed = isConfirmed(s);
      const label = { group: s.group, orderId: s.orderId };
      expect({ ...label, ...outcomes.get(s.orderId!) }).toMatchObject({ ...label, ...expectedOutcome[s.group], totalWon: total(s) });
      expect({ ...label, ...statuses.get(s.orderId!) }).toEqual({
        ...label,
        status: expectedOutcome[s.group].status,
        reason: expectedOutcome[s.group].reason ?? null,
        lines: confirmed ? ['COMMITTED', 'COMMITTED'] : ['RELEASED', 'RELEASED'],
      });
      // Exactly one payment per paying saga, at most one refund, each of the right amount;
      // a saga that never paid has the 0-point tombstone that refuses a late payment.
      const expectedLedger = confirmed ? { PAYMENT: [total(s)] } : s.group === 'D2' ? { PAYMENT: [total(s)], REFUND: [total(s)] } : { REFUND: [0] };
      expect({ ...label, ledger: ledgers.get(workflowIdOf(s)) }).toEqual({ ...label, ledger: expectedLedger });
      expect({ ...label, balance: balances.get(s.userId) }).toEqual({ ...label, balance: confirmed ? s.topUp - total(s) : s.topUp });
      const events = dataPlatform.events().filter((e) => e.eventId === `${workflowIdOf(s)}:confirmed`);
      expect({ ...label, events: events.length }).toEqual({ ...label, events: confirmed ? 1 : 0 });
    }

    // Stock back exactly: only the confirmed orders took units.
    const sold = (pick: (s: Saga) => number) => all.filter(isConfirmed).reduce((n, s) => n + pick(s), 0);
    const { rows: stock } = await observer.query<{ id: number; stock: number }>('select id, stock from products where id = any($1) order by id', [[productP, productQ]]);
    expect(stock).toEqual([
      { id: productP, stock: 1_000 - sold((s) => s.qtyP) },
      { id: productQ, stock: 1_000 - sold((s) => s.qtyQ) },
    ]);

    // The crash really cut those steps off: each one's only recorded result came from the
    // new worker, after a retry of the activity (remote) or after the dead worker's
    // workflow task timed out (local). F: what the first worker did was never reported.
    const cutOff: Record<Exclude<Group, 'E'>, string[]> = {
      A: ['payWithPoints'],
      B: ['confirmOrder'],
      C: ['releaseStock'],
      D1: ['refundPoints'],
      D2: ['releaseStock'],
      F: mode === 'local' ? ['payWithPoints', 'confirmOrder'] : ['payWithPoints'],
    };
    const newWorker = new RegExp(`^${secondWorker.pid}@`);
    for (const s of blocked) {
      const { runs, workflowTaskTimeouts } = await stepRuns(workflowIdOf(s));
      const label = { group: s.group, orderId: s.orderId };
      for (const step of cutOff[s.group as Exclude<Group, 'E'>]) {
        const recorded = runs[step] ?? [];
        expect({ ...label, step, runs: recorded.length, byNewWorker: recorded.every((r) => newWorker.test(r.identity)) }).toEqual({ ...label, step, runs: 1, byNewWorker: true });
        if (mode === 'remote') expect({ ...label, step, retried: recorded[0]!.attempt >= 2 }).toEqual({ ...label, step, retried: true });
      }
      if (mode === 'local') expect({ ...label, workflowTaskTimedOut: workflowTaskTimeouts >= 1 }).toEqual({ ...label, workflowTaskTimedOut: true });
    }

    const report = await checkInvariants(orm, {
      scope: { productIds: [productP, productQ], userIds: userList(all), orderIds: orderList(all) },
      receivedEvents: dataPlatform.events(),
    });
    expect(formatInvariantReport(report)).toMatch(/all invariants hold$/);

    const confirmedCount = all.filter(isConfirmed).length;
    process.stderr.write(
      `crash-worker (${mode} steps): ${all.length} sagas (${confirmedCount} CONFIRMED, ${all.length - confirmedCount} CANCELLED), ` +
        `${orphans.length} statements of the dead worker waiting at the kill, cancellation processed after ${Math.round(cancellationMs / 100) / 10} s, ` +
        `recovered ${Math.round(recoveredMs / 100) / 10} s after the kill, ${Math.round((Date.now() - started) / 1000)} s in all\n`,
    );
  });
});

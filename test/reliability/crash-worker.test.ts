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
 *   the compensation releaseStock (the order's stock_reservations rows);
 * - D1: cancelled while blocked in payWithPoints; once the workflow has processed the
 *   cancellation, blocked in the compensation refundPoints (account row, queued behind
 *   the abandoned payment attempt, which dies with the worker: nothing was paid);
 * - D2: cancelled the same way, then the abandoned payment attempt is let through and
 *   commits, the compensation refunds it, and the saga is blocked in the compensation
 *   releaseStock (the order's stock_reservations rows);
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
 *
 * The saga groups and their expected outcomes are in crash-worker/sagas.ts, the phases
 * that bring them to their kill points in crash-worker/kill-points.ts, what the test reads
 * in crash-worker/observe.ts and its assertions after recovery in crash-worker/checks.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pg from 'pg';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { OrderOutcome, StepActivities } from '../../common/orders.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import { createProduct, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { killAllParts, type Part } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.ts';
import { pollUntil } from '../helpers/waiting.ts';
import { blockedBehind, RowLocker, type BlockedBackend } from '../helpers/row-locks.ts';
import { expectCutOff, expectEndedOnce, expectStateAtKill, expectStockBack } from './crash-worker/checks.ts';
import { driveToKillPoints } from './crash-worker/kill-points.ts';
import { ledgerByReference, orderStatuses } from './crash-worker/observe.ts';
import { isConfirmed, makeSagas, orderList, PRICE_P, PRICE_Q, userList, workflowIdOf, type CrashScene, type Saga } from './crash-worker/sagas.ts';

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

/**
 * SIGKILLs `firstWorker` while its statements wait behind the `held` lockers, releases
 * them, and checks that those statements died with their connections without committing
 * anything: the blocked sagas' ledger and order rows are still as they were before.
 * Resolves with the statements that were waiting and when the kill happened (ms epoch).
 */
async function crash(scene: CrashScene, firstWorker: Part, held: RowLocker[], blocked: Saga[]): Promise<{ orphans: BlockedBackend[]; killedAt: number }> {
  const before = await ledgerByReference(scene.db, blocked);
  const statusBefore = await orderStatuses(scene.db, blocked);
  expectStateAtKill(scene, blocked, { ledger: before, statuses: statusBefore });

  // Crash.
  const orphans: BlockedBackend[] = [];
  for (const locker of held) orphans.push(...(await blockedBehind(scene.db, locker)));
  const killedAt = Date.now();
  const exit = await firstWorker.kill('SIGKILL');
  expect(exit.signal).toBe('SIGKILL');
  for (const locker of held) await locker.release();
  // The dead worker's statements get their locks now; their transactions must die with
  // the connection instead of committing anything.
  const orphanPids = orphans.map((o) => o.pid);
  await pollUntil('the dead worker\'s backends to end', async () => {
    const { rows } = await scene.db.query('select 1 from pg_stat_activity where pid = any($1)', [orphanPids]);
    return rows.length === 0;
  }, { timeoutMs: 30_000 });
  expect(await ledgerByReference(scene.db, blocked)).toEqual(before);
  expect(await orderStatuses(scene.db, blocked)).toEqual(statusBefore);
  return { orphans, killedAt };
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
    const groups = await makeSagas(orm);
    const { A, B, C, D1, D2, E, F } = groups;
    const all = [...A, ...B, ...C, ...D1, ...D2, ...E, ...F];
    const blocked = all.filter((s) => s.group !== 'E');
    const scene: CrashScene = { mode, client: env.client, db: observer, openLocker, placeOrders: (sagas) => placeOrders(sagas, productP, productQ) };

    // The first worker talks to Temporal through a relay the test can freeze.
    relay = await startTcpRelay(env.address);
    worker = await startWorkerProcess(envFor(config, { TEMPORAL_ADDRESS: relay.address }), `worker#1 (${mode})`);
    const { held, cancellationMs } = await driveToKillPoints(scene, groups, relay);
    const { orphans, killedAt } = await crash(scene, worker, held, blocked);

    // Recovery: a new worker process picks every saga up.
    worker = await startWorkerProcess(envFor(config), `worker#2 (${mode})`);
    const secondWorker = worker;
    const outcomes = new Map<string, OrderOutcome>();
    await Promise.all(all.map(async (s) => outcomes.set(s.orderId!, (await env.client.workflow.getHandle(workflowIdOf(s)).result()) as OrderOutcome)));
    const recoveredMs = Date.now() - killedAt;

    await expectEndedOnce(scene, all, outcomes, dataPlatform);
    await expectStockBack(scene, all, productP, productQ);
    await expectCutOff(scene, blocked, secondWorker.pid);
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

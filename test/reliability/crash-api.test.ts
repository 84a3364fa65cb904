/**
 * The API process crashes (SIGKILL) after it started a checkout saga and before it
 * answered; the client retries the same request, with the same Idempotency-Key, against
 * a new API process. The retry must reach the same saga (the workflow id is the
 * idempotency key), answer with the same orderId, and the order must be charged once.
 *
 * Real parts: a Temporal dev server (createLocal), PostgreSQL (test database), the mock
 * data platform in this process; the API and the worker as child processes
 * (`node api/server.ts`, `node worker/main.ts`). The API waits long for the outcome
 * (ORDER_OUTCOME_WAIT_MS = 60 s) so that it is still waiting when it is killed: either no
 * worker runs yet, or the saga waits on a row lock the test holds.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { orderWorkflowId } from '../../common/ids.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { orderIdFor } from '../../api/idempotency.ts';
import { balanceOf, createProduct, createUser, ledgerOf, openTestOrm, stockOf, testConfig } from '../helpers/db.ts';
import { callApi, type ApiAnswer } from '../helpers/stack.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { killAllParts, type Part } from '../helpers/parts.ts';
import { envFor, startApiProcess, startWorkerProcess, type ApiPart } from '../helpers/processes.ts';
import { pollUntil } from '../helpers/waiting.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';

const logger = pino({ level: 'warn' });
let env: TestWorkflowEnvironment;
let dataPlatform: DataPlatformServer;
let config: AppConfig;
let orm: Orm;
let observer: pg.Client;
let worker: Part | undefined;
const apis: ApiPart[] = [];

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
  dataPlatform = createDataPlatformServer({ logger });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  config = testConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TASK_QUEUE: uniqueTaskQueue('crash-api'),
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
    // Long enough that the API is always still waiting when the test kills it.
    ORDER_OUTCOME_WAIT_MS: '60000',
  });
  orm = await openTestOrm(config);
  observer = new pg.Client({ connectionString: config.database.url });
  await observer.connect();
});

afterAll(async () => {
  await worker?.stop(10_000);
  for (const api of apis) await api.stop(5_000);
  await killAllParts();
  await observer?.end();
  await dataPlatform?.close();
  await orm?.close();
  await env?.teardown();
});

async function startApi(): Promise<ApiPart> {
  const api = await startApiProcess(envFor(config), `api#${apis.length + 1}`);
  apis.push(api);
  return api;
}

/** Sends the request without awaiting it; `state()` says whether it has answered. */
function send(api: ApiPart, body: unknown, key: string) {
  let settled: 'pending' | 'answered' | 'failed' = 'pending';
  const answer = callApi({ apiUrl: api.url }, 'POST', '/orders', body, { 'Idempotency-Key': key }).then(
    (res) => {
      settled = 'answered';
      return res;
    },
    (err: unknown) => {
      settled = 'failed';
      throw err;
    },
  );
  answer.catch(() => {});
  return { answer, state: () => settled };
}

/** Resolves with the saga's run id once the workflow exists in Temporal (describe answers). */
async function workflowStarted(workflowId: string): Promise<string> {
  let runId = '';
  await pollUntil(`workflow ${workflowId} to exist`, async () => {
    try {
      runId = (await env.client.workflow.getHandle(workflowId).describe()).runId;
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  });
  return runId;
}

/** How many Updates the saga's current run has accepted (history events). */
async function acceptedUpdates(workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

/** Every run Temporal knows of `workflowId` (Visibility), after the saga finished. */
async function runsOf(workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf.runId);
  return runs;
}

async function expectChargedOnce(opts: { orderId: string; userId: number; productId: number; stockBefore: number; quantity: number; topUp: number; totalWon: number }) {
  const { orderId, userId, productId } = opts;
  expect(await stockOf(orm, productId)).toBe(opts.stockBefore - opts.quantity);
  expect(await balanceOf(orm, userId)).toBe(opts.topUp - opts.totalWon);
  expect((await ledgerOf(orm, userId)).filter((e) => e.kind !== 'TOP_UP')).toEqual([
    { kind: 'PAYMENT', amountPoints: opts.totalWon, reference: orderWorkflowId(orderId) },
  ]);
  const { rows: orders } = await observer.query<{ id: string; status: string }>('select id, status from orders where user_id = $1', [userId]);
  expect(orders).toEqual([{ id: orderId, status: 'CONFIRMED' }]);
  await env.client.workflow.getHandle(orderWorkflowId(orderId)).result();
  expect(dataPlatform.events().filter((e) => e.eventId === `${orderWorkflowId(orderId)}:confirmed`)).toHaveLength(1);
  const report = await checkInvariants(orm, { scope: { userIds: [userId], productIds: [productId] }, receivedEvents: dataPlatform.events() });
  expect(formatInvariantReport(report)).toMatch(/all invariants hold$/);
}

describe('API crash (SIGKILL) before it answered POST /orders', () => {
  it('joins the same saga on retry when no worker ran yet: same orderId, one saga, one charge', async () => {
    const productId = await createProduct(orm, 10, 1_000);
    const userId = await createUser(orm, 50_000);
    const key = `crash-api-${randomUUID()}`;
    const body = { userId, items: [{ productId, quantity: 3 }] };
    const orderId = orderIdFor(config.idempotency.secret, userId, key);
    const workflowId = orderWorkflowId(orderId);

    const first = await startApi();
    const request = send(first, body, key);
    const runId = await workflowStarted(workflowId);
    // Started, not answered: no worker has picked the saga up.
    expect(request.state()).toBe('pending');
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
    await expect(request.answer).rejects.toThrow();

    const second = await startApi();
    const retry = send(second, body, key);
    worker = await startWorkerProcess(envFor(config), 'worker');
    const res: ApiAnswer = await retry.answer;

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ orderId, status: 'CONFIRMED', totalWon: 3_000, userId });
    // A third try, after the outcome, answers from the finished saga.
    const again = await callApi({ apiUrl: second.url }, 'POST', '/orders', body, { 'Idempotency-Key': key });
    expect([again.status, again.body.orderId]).toEqual([201, orderId]);
    expect(await runsOf(workflowId)).toEqual([runId]);
    await expectChargedOnce({ orderId, userId, productId, stockBefore: 10, quantity: 3, topUp: 50_000, totalWon: 3_000 });
  });

  it('joins the same saga on retry while the saga waits mid-way (payment blocked): same orderId, one charge; a changed body is refused', async () => {
    if (!worker) worker = await startWorkerProcess(envFor(config), 'worker');
    const productId = await createProduct(orm, 10, 2_000);
    const userId = await createUser(orm, 50_000);
    const key = `crash-api-${randomUUID()}`;
    const body = { userId, items: [{ productId, quantity: 2 }] };
    const orderId = orderIdFor(config.idempotency.secret, userId, key);
    const workflowId = orderWorkflowId(orderId);

    const locker = await RowLocker.open(config.database.url);
    try {
      await locker.lock('point_accounts', [userId]);
      const first = await startApi();
      const request = send(first, body, key);
      await waitForBlocked(observer, locker, { count: 1, query: new RegExp(`point_accounts where user_id = ${userId} for update`) });
      const runId = await workflowStarted(workflowId);
      expect(request.state()).toBe('pending');
      expect(await stockOf(orm, productId)).toBe(8);
      expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
      await expect(request.answer).rejects.toThrow();

      const second = await startApi();
      const retry = send(second, body, key);
      const changed = send(second, { ...body, items: [{ productId, quantity: 1 }] }, key);
      // Both reach the saga, which still waits on the lock: the worker accepted their
      // outcome Updates (and the dead API's) into the same run.
      await pollUntil('the retried requests to reach the saga', async () => (await acceptedUpdates(workflowId)) === 3);
      expect([retry.state(), changed.state()]).toEqual(['pending', 'pending']);
      await locker.release();

      const res = await retry.answer;
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ orderId, status: 'CONFIRMED', totalWon: 4_000 });
      const refused = await changed.answer;
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'IdempotencyKeyReused', orderId });
      expect(await runsOf(workflowId)).toEqual([runId]);
      await expectChargedOnce({ orderId, userId, productId, stockBefore: 10, quantity: 2, topUp: 50_000, totalWon: 4_000 });
    } finally {
      await locker.close();
    }
  });
});

/**
 * A worker crash after a refused payment whose outcome the history has not recorded yet
 * (with local step activities, until the workflow task completes): the new worker re-runs
 * payWithPoints after the refund's tombstone exists. The order must keep its true
 * cancellation reason (InsufficientPoints, 422), not a generic SagaAlreadyCompensated.
 */
import { it, expect, afterAll } from '@jest/globals';
import pg from 'pg';
import pino from 'pino';
import { orderWorkflowId } from '../../common/ids.ts';
import { startApiServer } from '../../api/server.ts';
import { createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { killAllParts } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await killAllParts();
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

it.each(['local', 'remote'])('%s steps: a refused order keeps its reason across a worker crash', async (mode) => {
  const env = await startTestTemporal(testConfig());
  cleanup.push(() => env.teardown());
  const config = testConfig({
    TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', TASK_QUEUE: uniqueTaskQueue('repro'),
    ORDER_OUTCOME_WAIT_MS: '300', ORDER_STEP_ACTIVITIES: mode,
  });
  const orm = await openTestOrm(config);
  cleanup.push(() => orm.close());
  const api = await startApiServer({ orm, client: env.client, config, logger: pino({ level: 'warn' }) }, { host: '127.0.0.1', port: 0 });
  cleanup.push(() => api.close());
  const observer = new pg.Client({ connectionString: config.database.url });
  await observer.connect();
  cleanup.push(() => observer.end());
  const locker = await RowLocker.open(config.database.url);
  cleanup.push(() => locker.close());

  const productId = await createProduct(orm, 10, 1_000);
  const userId = await createUser(orm, 1); // cannot pay
  const worker1 = await startWorkerProcess(envFor(config), 'worker#1');
  // The payment waits on the account row; with the order's stock lines held too, the
  // refusal and the refund commit once the account is free, and the compensation
  // releaseStock waits.
  const account = await RowLocker.open(config.database.url);
  cleanup.push(() => account.close());
  await account.lock('point_accounts', [userId]);
  const res = await callApi({ apiUrl: api.url }, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] });
  const orderId: string = res.body.orderId;
  await waitForBlocked(observer, account, { count: 1, query: /point_accounts/ });
  await locker.lock('stock_reservations', [orderId]);
  await account.release();
  await waitForBlocked(observer, locker, { count: 1, query: /from stock_reservations where order_id = .* for update/ });
  await worker1.kill('SIGKILL');
  await locker.release();
  const worker2 = await startWorkerProcess(envFor(config), 'worker#2');
  cleanup.push(() => worker2.stop(10_000));
  const outcome = await env.client.workflow.getHandle(orderWorkflowId(orderId)).result();
  const view = await callApi({ apiUrl: api.url }, 'GET', `/orders/${orderId}`);
  expect(outcome).toMatchObject({ status: 'CANCELLED', reason: 'InsufficientPoints' });
  expect(view.body).toMatchObject({ status: 'CANCELLED', reason: 'InsufficientPoints' });
});

/**
 * A worker crash after a refused payment whose outcome the history has not recorded yet
 * (with local step activities, until the workflow task completes): the new worker re-runs
 * payWithPoints after the refund's tombstone exists. The order must keep its true
 * cancellation reason (InsufficientPoints, 422), not a generic SagaAlreadyCompensated.
 */
import { it, expect, afterAll } from '@jest/globals';
import { orderWorkflowId } from '../../common/ids.ts';
import { createProduct, createUser } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { killAllParts } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';
import { startWorkerRig } from '../helpers/worker-rig.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await killAllParts();
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

it.each(['local', 'remote'])('%s steps: a refused order keeps its reason across a worker crash', async (mode) => {
  const { env, config, orm, api, observer, locker } = await startWorkerRig(cleanup, 'repro', { ORDER_STEP_ACTIVITIES: mode });

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

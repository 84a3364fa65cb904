/**
 * Deploying a worker while sagas are in flight: SIGTERM makes the worker stop polling and
 * finish the activity it is running (within WORKER_SHUTDOWN_GRACE_MS) before it exits;
 * a new worker then finishes the saga, and every step took effect once.
 */
import { describe, it, expect, afterAll } from '@jest/globals';
import { temporal } from '@temporalio/proto';
import { orderWorkflowId } from '../../common/ids.ts';
import { orderOutcomeUpdate } from '../../common/orders.ts';
import { balanceOf, createProduct, createUser, ledgerOf, stockOf } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { killAllParts } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { waitForBlocked } from '../helpers/row-locks.ts';
import { startWorkerRig } from '../helpers/worker-rig.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await killAllParts();
  for (const step of cleanup.reverse()) await step().catch(() => {});
});

describe('worker drain on SIGTERM', () => {
  it('finishes the running activity, exits cleanly, and the next worker completes the saga once', async () => {
    const { env, config, orm, api, observer, locker: account } = await startWorkerRig(cleanup, 'drain', {
      ORDER_STEP_ACTIVITIES: 'remote',
      WORKER_SHUTDOWN_GRACE_MS: '30000',
    });

    const productId = await createProduct(orm, 10, 1_000);
    const userId = await createUser(orm, 10_000);
    const first = await startWorkerProcess(envFor(config), 'worker#1');
    await account.lock('point_accounts', [userId]);
    const res = await callApi({ apiUrl: api.url }, 'POST', '/orders', { userId, items: [{ productId, quantity: 3 }] });
    const orderId: string = res.body.orderId;
    await waitForBlocked(observer, account, { count: 1, query: /point_accounts/ });

    first.child.kill('SIGTERM');
    await first.waitForLine((l) => /shut|stop/i.test(String(l.json?.msg ?? l.text)), 10_000).catch(() => undefined);
    // Draining: the worker is still there while its payment waits on the lock.
    expect(first.hasExited()).toBe(false);
    await account.release();
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const history = await env.client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    const EventType = temporal.api.enums.v1.EventType;
    const completedByFirst = (history.events ?? []).filter(
      (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && e.activityTaskCompletedEventAttributes?.identity?.startsWith(`${first.pid}@`),
    );
    expect(completedByFirst.length).toBeGreaterThanOrEqual(1);

    const second = await startWorkerProcess(envFor(config), 'worker#2');
    cleanup.push(() => second.stop(10_000));
    // The business outcome (no data platform runs here, so the saga itself keeps retrying its notification).
    const outcome = await env.client.workflow.getHandle(orderWorkflowId(orderId)).executeUpdate(orderOutcomeUpdate);
    expect(outcome).toMatchObject({ status: 'CONFIRMED' });
    expect(await stockOf(orm, productId)).toBe(7);
    expect(await balanceOf(orm, userId)).toBe(7_000);
    expect((await ledgerOf(orm, userId)).filter((e) => e.kind === 'PAYMENT')).toHaveLength(1);
  });
});

/**
 * The data platform misbehaving in each way the design names: down for a while, slow
 * (3 s), failing half the requests, and answering 500 after recording the event. Every
 * confirmed saga must be delivered exactly once in the end (the receiver deduplicates by
 * event id), no answer to the user waits for it, and nothing is reverted by it.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { orderWorkflowId, reservationWorkflowId } from '../../common/ids.ts';
import type { SettingsPatch } from '../../data-platform/server.ts';
import { createPerformance, createProduct, createUser } from '../helpers/db.ts';
import { callApi, startStack, type TestStack } from '../helpers/stack.ts';
import { awaitOutboxDelivered } from '../helpers/outbox.ts';

let stack: TestStack;
const ORDERS = 8;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

afterEach(() => {
  stack.dataPlatform.updateSettings({ down: false, latencyMs: 0, failureRate: 0, failAfterRecord: 0 });
});

function receivedCount(eventId: string): number {
  return stack.dataPlatform.events().filter((e) => e.eventId === eventId).length;
}

/** Places ORDERS orders and one paid reservation under `settings`; returns their workflow ids. */
async function runSagas(settings: SettingsPatch): Promise<{ workflowIds: string[]; answeredBeforeDelivery: number }> {
  stack.dataPlatform.updateSettings(settings);
  const productId = await createProduct(stack.orm, ORDERS, 1_000);
  const userId = await createUser(stack.orm, 1_000_000);
  const answers = await Promise.all(
    Array.from({ length: ORDERS }, () => callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] })),
  );
  expect(answers.map((a) => [a.status, a.body.status])).toEqual(answers.map(() => [201, 'CONFIRMED']));
  const { performanceId, seatIds } = await createPerformance(stack.orm, 1);
  const held = await callApi(stack, 'POST', '/reservations', { userId, performanceId, seatIds });
  const paid = await callApi(stack, 'POST', `/reservations/${held.body.reservationId}/payment`);
  expect(paid.status).toBe(200);
  const workflowIds = [...answers.map((a) => orderWorkflowId(a.body.orderId)), reservationWorkflowId(held.body.reservationId)];
  const answeredBeforeDelivery = workflowIds.filter((id) => receivedCount(`${id}:confirmed`) === 0).length;
  return { workflowIds, answeredBeforeDelivery };
}

async function expectDeliveredOnce(workflowIds: string[]): Promise<void> {
  await Promise.all(workflowIds.map((id) => stack.env.client.workflow.getHandle(id).result()));
  // The sagas end at their pivot; the outbox relay delivers their events after it.
  await awaitOutboxDelivered(stack.orm, workflowIds);
  for (const id of workflowIds) expect(receivedCount(`${id}:confirmed`)).toBe(1);
  const rows = await stack.orm.em
    .fork()
    .execute<{ status: string }[]>('select status from data_platform_deliveries where saga_id in (?)', [workflowIds]);
  expect(rows.map((r) => r.status)).toEqual(workflowIds.map(() => 'DELIVERED'));
  const statuses = await stack.orm.em
    .fork()
    .execute<{ status: string }[]>(
      'select status from orders where workflow_id in (?) union all select status from reservations where workflow_id in (?)',
      [workflowIds, workflowIds],
    );
  expect(statuses.map((s) => s.status)).toEqual(workflowIds.map(() => 'CONFIRMED'));
}

async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((r) => setTimeout(r, 100));
}

describe('data platform faults', () => {
  it('down for a while: sagas confirm at once; each event arrives once after it returns', async () => {
    const started = Date.now();
    const { workflowIds, answeredBeforeDelivery } = await runSagas({ down: true });
    expect(answeredBeforeDelivery).toBe(workflowIds.length);
    await waitUntil(async () => {
      const [row] = await stack.orm.em.fork().execute<{ n: number }[]>(
        'select count(*)::int as n from data_platform_deliveries where saga_id in (?) and attempts >= 2',
        [workflowIds],
      );
      return row!.n === workflowIds.length;
    });
    stack.dataPlatform.updateSettings({ down: false });
    await expectDeliveredOnce(workflowIds);
    console.log(`data platform down: ${workflowIds.length} sagas confirmed, delivered once each, ${Date.now() - started} ms`);
  });

  it('slow (3 s): no answer waits for it', async () => {
    const started = Date.now();
    const { workflowIds, answeredBeforeDelivery } = await runSagas({ latencyMs: 3_000 });
    // The platform records an event only after 3 s: every answer came before its event.
    expect(answeredBeforeDelivery).toBe(workflowIds.length);
    await expectDeliveredOnce(workflowIds);
    console.log(`data platform slow: ${workflowIds.length} sagas confirmed, delivered once each, ${Date.now() - started} ms`);
  });

  it('failing half the requests: every event still arrives exactly once', async () => {
    const started = Date.now();
    const { workflowIds } = await runSagas({ failureRate: 0.5 });
    await expectDeliveredOnce(workflowIds);
    const attempts = stack.dataPlatform.events().filter((e) => workflowIds.some((id) => e.eventId.startsWith(id))).map((e) => e.attempts);
    console.log(`data platform failing half: ${workflowIds.length} sagas, attempts per event ${attempts.join(',')}, ${Date.now() - started} ms`);
  });

  it('answering 500 after recording: the resends are deduplicated, the event counts once', async () => {
    const started = Date.now();
    const { workflowIds } = await runSagas({ failAfterRecord: 1 });
    await waitUntil(() =>
      workflowIds.every((id) => stack.dataPlatform.events().some((e) => e.eventId === `${id}:confirmed` && e.attempts >= 2)),
    );
    stack.dataPlatform.updateSettings({ failAfterRecord: 0 });
    await expectDeliveredOnce(workflowIds);
    console.log(`data platform 500 after record: ${workflowIds.length} sagas, delivered once each, ${Date.now() - started} ms`);
  });
});

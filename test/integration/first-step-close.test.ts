/**
 * The close of a saga's first step does not depend on having seen its result: when
 * createOrder / createReservation committed but the workflow never got the reply (the
 * workflow was cancelled while the step ran, or the step's reply was lost after its
 * retries ran out), the saga still closes the row, so nothing stays PENDING with no saga
 * behind it. And a reservation left PENDING without a saga anyway (an attempt that
 * committed after the close, until the reconciliation closes it) is answered 503
 * `SagaUnavailable` with `Retry-After` by DELETE and pay, never 500.
 *
 * Faults through the activity factory, keyed by order or reservation id: `hang` commits
 * the real step, tells the test, then waits until the test lets it go (the workflow is
 * cancelled meanwhile); `lost` commits the real step and then fails for good.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { createActivities } from '../../activities/index.ts';
import { ORDER_CHECKOUT_WORKFLOW, SEAT_RESERVATION_WORKFLOW, orderWorkflowId, reservationWorkflowId } from '../../common/ids.ts';
import type { StepActivities } from '../../common/index.ts';
import { createPerformance, createProduct, createUser, seatStates } from '../helpers/db.ts';
import { reservationInput } from '../helpers/reservations.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

type Fault = 'hang' | 'lost';

let stack: TestStack;
const faults = new Map<string, Fault>();
/** Told when a `hang` step has committed, by id. */
const committed = new Map<string, () => void>();
/** Lets every hanging step return (at the end of each test, so the worker can stop). */
let releaseHanging: () => void = () => {};
let hanging = new Promise<void>((resolve) => (releaseHanging = resolve));

/** Runs the real first step, then applies the fault registered for `id`. */
async function faulty<T>(id: string, run: () => Promise<T>): Promise<T> {
  const result = await run();
  const fault = faults.get(id);
  if (fault === 'hang') {
    committed.get(id)?.();
    await hanging;
  }
  if (fault === 'lost') throw ApplicationFailure.nonRetryable('the reply was lost after the retries ran out', 'ReplyLost');
  return result;
}

beforeAll(async () => {
  stack = await startStack({
    activityOverrides: (real) => ({
      createOrder: (input) => faulty(input.orderId, () => real.createOrder(input)),
      createReservation: (input) => faulty(input.reservationId, () => real.createReservation(input)),
    }),
  });
});

afterEach(() => {
  releaseHanging();
  hanging = new Promise<void>((resolve) => (releaseHanging = resolve));
});

afterAll(() => closeStack(stack));

/** Registers `fault` for `id`; resolves once a `hang` step of it has committed. */
function inject(id: string, fault: Fault): Promise<void> {
  faults.set(id, fault);
  return new Promise<void>((resolve) => committed.set(id, resolve));
}

async function rowStatus(table: 'orders' | 'reservations', id: string): Promise<string | undefined> {
  const rows = await stack.orm.em.fork().execute<{ status: string }[]>(`select status from ${table} where id = ?`, [id]);
  return rows[0]?.status;
}

async function startOrder(orderId: string, stepActivities: StepActivities): Promise<WorkflowHandle> {
  const productId = await createProduct(stack.orm, 10, 1_000);
  const userId = await createUser(stack.orm, 10_000);
  return stack.env.client.workflow.start(ORDER_CHECKOUT_WORKFLOW, {
    workflowId: orderWorkflowId(orderId),
    taskQueue: stack.config.temporal.taskQueue,
    args: [{ orderId, userId, items: [{ productId, quantity: 1 }], requestHash: 'first-step-close', stepActivities }],
  });
}

describe('the order saga closes its row without createOrder\'s result', () => {
  it.each<StepActivities>(['remote', 'local'])('cancelled while createOrder (%s) runs after its commit: the order ends CANCELLED', async (stepActivities) => {
    const orderId = randomUUID();
    const stepCommitted = inject(orderId, 'hang');
    const handle = await startOrder(orderId, stepActivities);
    await stepCommitted;

    await handle.cancel();

    expect(await handle.result()).toMatchObject({ orderId, status: 'CANCELLED', reason: 'Cancelled' });
    expect(await rowStatus('orders', orderId)).toBe('CANCELLED');
  });

  it('createOrder committed and its reply was lost for good: the order ends CANCELLED with that reason', async () => {
    const orderId = randomUUID();
    inject(orderId, 'lost');
    const handle = await startOrder(orderId, 'local');

    expect(await handle.result()).toMatchObject({ orderId, status: 'CANCELLED', reason: 'ReplyLost' });
    expect(await rowStatus('orders', orderId)).toBe('CANCELLED');
  });
});

describe('the reservation saga closes its row without createReservation\'s result', () => {
  it.each<Fault>(['hang', 'lost'])('%s: the reservation ends CANCELLED and holds no seat', async (fault) => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
    const input = reservationInput(await createUser(stack.orm, 0), performanceId, seatIds, 60_000);
    const stepCommitted = inject(input.reservationId, fault);
    const handle = await stack.env.client.workflow.start(SEAT_RESERVATION_WORKFLOW, {
      workflowId: reservationWorkflowId(input.reservationId),
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
    });
    if (fault === 'hang') {
      await stepCommitted;
      await handle.cancel();
    }

    expect(await handle.result()).toEqual({ reservationId: input.reservationId, status: 'CANCELLED' });
    expect(await rowStatus('reservations', input.reservationId)).toBe('CANCELLED');
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['AVAILABLE', 'AVAILABLE']);
  });
});

describe('a reservation PENDING without a running saga', () => {
  it('is answered 503 SagaUnavailable with Retry-After by DELETE and by pay, and nothing changes', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, 1);
    const userId = await createUser(stack.orm, 50_000);
    const reservationId = randomUUID();
    // What a createReservation attempt that committed after its saga had closed leaves behind.
    const acts = createActivities({ orm: stack.orm, dataPlatform: { send: async () => ({ status: 201, duplicate: false }) } });
    await acts.createReservation({
      reservationId,
      userId,
      performanceId,
      seatIds,
      holdExpiresAt: new Date(Date.now() + 60_000).toISOString(),
      workflowId: reservationWorkflowId(reservationId),
      requestHash: 'orphan',
    });

    for (const [method, path] of [
      ['DELETE', `/reservations/${reservationId}`],
      ['POST', `/reservations/${reservationId}/payment`],
    ] as const) {
      const res = await callApi(stack, method, path);
      expect([method, res.status, res.body.code]).toEqual([method, 503, 'SagaUnavailable']);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body.reservationId).toBe(reservationId);
    }
    expect(await rowStatus('reservations', reservationId)).toBe('PENDING');
  });
});

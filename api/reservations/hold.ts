/**
 * Starting a seat reservation saga and waiting, for a bounded time, for its hold. One
 * Update-with-Start round trip starts the saga (or reaches the running one with the same
 * id) and asks for the hold outcome, which the workflow gives as soon as the seats are
 * held (PENDING) or refused (CANCELLED with a reason).
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  type Client,
} from '@temporalio/client';
import {
  reservationHoldUpdate,
  reservationWorkflowId,
  type HoldOutcome,
  type SeatReservationInput,
} from '../../common/index.ts';
import { REQUEST_HASH_MEMO } from '../orders/checkout.ts';
import { SHORT_CALL_DEADLINE_MS, withDeadline } from '../temporal.ts';

/** Workflow type name of the seat reservation saga (the workflow function's name). */
export const SEAT_RESERVATION_WORKFLOW = 'seatReservation';

/**
 * Signature of `seatReservation`, for typed `args` without importing workflows/. The API
 * reads the hold through the `reservationHold` Update, never through the workflow result.
 */
export type SeatReservationWorkflow = (input: SeatReservationInput) => Promise<unknown>;

/**
 * What starting a reservation gave:
 * - `outcome`: the saga answered with its hold outcome within the wait;
 * - `pending`: the saga runs (or its start is in flight) but has not answered yet;
 * - `closed`: a saga with this id already finished, so no new one was started
 *   (REJECT_DUPLICATE); its result is in the database.
 */
export type HoldAnswer = { kind: 'outcome'; outcome: HoldOutcome } | { kind: 'pending' } | { kind: 'closed' };

/**
 * Starts (or joins) the reservation saga of `input.reservationId` and waits up to
 * `waitMs` for its hold outcome.
 *
 * Idempotent: the workflow id is `reservation-<reservationId>`; a running saga with that
 * id is reused (USE_EXISTING) and a finished one is never started again (REJECT_DUPLICATE).
 * The request hash travels in the memo so a pending answer can still detect key reuse.
 *
 * @throws Temporal errors other than "already closed" and "no outcome within the wait"
 *   (unreachable service, failed Update).
 */
export async function startHold(
  client: Client,
  taskQueue: string,
  waitMs: number,
  input: SeatReservationInput,
): Promise<HoldAnswer> {
  const startWorkflowOperation = new WithStartWorkflowOperation<SeatReservationWorkflow>(SEAT_RESERVATION_WORKFLOW, {
    workflowId: reservationWorkflowId(input.reservationId),
    taskQueue,
    args: [input],
    memo: { [REQUEST_HASH_MEMO]: input.requestHash },
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    // One deadline covers both calls: the start waits for a worker to accept the Update.
    const outcome = await withDeadline(client, waitMs, async () => {
      const update = await client.workflow.startUpdateWithStart(reservationHoldUpdate, {
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        startWorkflowOperation,
      });
      return update.result();
    });
    return { kind: 'outcome', outcome };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'closed' };
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'pending' };
    throw err;
  }
}

/**
 * The request hash a running reservation saga was started with (from its memo).
 *
 * @returns the hash; undefined when the saga exists without one; null when no saga exists
 *   (its start never reached Temporal).
 * @throws Temporal unavailability.
 */
export async function startedReservationHash(client: Client, reservationId: string): Promise<string | undefined | null> {
  try {
    const description = await withDeadline(client, SHORT_CALL_DEADLINE_MS, () =>
      client.workflow.getHandle(reservationWorkflowId(reservationId)).describe(),
    );
    const hash = description.memo?.[REQUEST_HASH_MEMO];
    return typeof hash === 'string' ? hash : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

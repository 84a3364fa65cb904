/**
 * Talking to a running reservation saga: paying it (the `payReservation` Update) and
 * cancelling it (the `cancelReservation` Signal), each under a deadline.
 *
 * How a refusal reaches the client: a rejection by the Update's validator and a failure
 * of its handler both surface as `WorkflowUpdateFailedError` whose `cause` is the
 * `ApplicationFailure` (or, when the handler rethrows an activity's failure, an
 * `ActivityFailure` whose `cause` is it); the failure's `type` and `details` survive.
 * An Update or Signal sent to a closed workflow fails with `WorkflowNotFoundError`
 * ("workflow execution already completed"), like one sent to a workflow that never existed.
 */
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  type Client,
} from '@temporalio/client';
import {
  cancelReservationSignal,
  payReservationUpdate,
  reservationWorkflowId,
  type PaymentOutcome,
} from '../../common/index.ts';
import { SHORT_CALL_DEADLINE_MS, applicationFailureIn, withDeadline } from '../temporal.ts';



/**
 * What a payment request gave:
 * - `paid`: the reservation is CONFIRMED and the points charged;
 * - `refused`: the workflow refused or failed the payment with a typed `ApplicationFailure`
 *   (`InsufficientPoints`, `HoldExpired`, `ReservationCancelled`, `AlreadyConfirmed`, ...);
 * - `failed`: the Update failed without a business type (e.g. the workflow closed while it ran);
 * - `closed`: no running saga (finished, or never started): the database has the answer;
 * - `pending`: no answer within the wait (the payment may still complete).
 */
export type PaymentAnswer =
  | { kind: 'paid'; outcome: PaymentOutcome }
  | { kind: 'refused'; type: string; message: string; details: readonly unknown[] }
  | { kind: 'failed'; error: WorkflowUpdateFailedError }
  | { kind: 'closed' }
  | { kind: 'pending' };


/**
 * Sends the `payReservation` Update to the saga of `reservationId` and waits up to
 * `waitMs` for its result. Each call is a new Update; the workflow makes concurrent ones
 * share one payment, and a payment refused for insufficient points may be retried.
 *
 * @throws Temporal errors other than those classified in {@link PaymentAnswer}
 *   (unreachable service: 503 upstream).
 */
export async function payReservation(client: Client, waitMs: number, reservationId: string): Promise<PaymentAnswer> {
  try {
    const outcome = await withDeadline(client, waitMs, async () => {
      const update = await client.workflow
        .getHandle(reservationWorkflowId(reservationId))
        .startUpdate(payReservationUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
      return update.result();
    });
    return { kind: 'paid', outcome };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { kind: 'closed' };
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'pending' };
    if (err instanceof WorkflowUpdateFailedError) {
      const failure = applicationFailureIn(err.cause);
      if (!failure?.type) return { kind: 'failed', error: err };
      return { kind: 'refused', type: failure.type, message: failure.message, details: failure.details ?? [] };
    }
    throw err;
  }
}

/**
 * Sends the `cancelReservation` Signal to the saga of `reservationId`.
 *
 * @returns true when it was delivered to a running saga; false when there is none
 *   (finished, or never started).
 * @throws Temporal unavailability.
 */
export async function requestCancellation(client: Client, reservationId: string): Promise<boolean> {
  try {
    await withDeadline(client, SHORT_CALL_DEADLINE_MS, () =>
      client.workflow.getHandle(reservationWorkflowId(reservationId)).signal(cancelReservationSignal),
    );
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * Starting a seat reservation saga and waiting, for a bounded time, for its hold, which
 * the workflow gives through the `reservationHold` Update as soon as the seats are held
 * (PENDING) or refused (CANCELLED with a reason).
 */
import type { Client } from '@temporalio/client';
import {
  reservationHoldUpdate,
  reservationWorkflowId,
  type HoldOutcome,
  type SeatReservationInput,
} from '../../common/index.ts';
import { startSaga, type StartAnswer } from '../saga-start.ts';

/** Workflow type name of the seat reservation saga (the workflow function's name). */
export const SEAT_RESERVATION_WORKFLOW = 'seatReservation';

/** What starting a reservation gave; `outcome` is its hold outcome (see {@link StartAnswer}). */
export type HoldAnswer = StartAnswer<HoldOutcome>;

/**
 * Starts (or joins) the reservation saga of `input.reservationId` and waits up to
 * `waitMs` for its hold outcome.
 *
 * Idempotent: the workflow id is `reservation-<reservationId>`; a running saga with that
 * id is reused (USE_EXISTING) and a finished one is never started again (REJECT_DUPLICATE).
 *
 * @throws Temporal errors other than "already closed" and "no outcome within the wait"
 *   (unreachable service, failed Update).
 */
export function startHold(client: Client, taskQueue: string, waitMs: number, input: SeatReservationInput): Promise<HoldAnswer> {
  return startSaga(client, waitMs, {
    workflowType: SEAT_RESERVATION_WORKFLOW,
    workflowId: reservationWorkflowId(input.reservationId),
    taskQueue,
    input,
    update: reservationHoldUpdate,
  });
}

/**
 * Driving the seat reservation saga from a test through the Temporal client (no HTTP):
 * start a hold the way `POST /reservations` does, and read why an Update was refused.
 * Plain code (no jest), so test/tools/record-histories.ts can use it too.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { reservationWorkflowId } from '../../common/ids.ts';
import { reservationHoldUpdate, type HoldOutcome, type SeatReservationInput } from '../../common/reservations.ts';
import { sagaStartSearchAttributes } from '../../common/saga.ts';
import type { TestStack } from './stack.ts';

/** A reservation input with a fresh id, for `userId`'s hold of `seatIds` for `holdMs`. */
export function reservationInput(
  userId: number,
  performanceId: number,
  seatIds: number[],
  holdMs: number,
  requestHash = 'test',
): SeatReservationInput {
  return { reservationId: randomUUID(), userId, performanceId, seatIds, holdMs, requestHash };
}

/**
 * Starts the reservation saga of `input` on the stack's task queue (or joins the one
 * already running under its workflow id) and waits for its hold outcome: the
 * Update-with-Start that `POST /reservations` sends.
 */
export function holdSeats(stack: Pick<TestStack, 'env' | 'config'>, input: SeatReservationInput): Promise<HoldOutcome> {
  return stack.env.client.workflow.executeUpdateWithStart(reservationHoldUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation('seatReservation', {
      workflowId: reservationWorkflowId(input.reservationId),
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: sagaStartSearchAttributes({ reservationId: input.reservationId, userId: input.userId, holdExpiresAt: new Date(Date.now() + input.holdMs) }),
    }),
  });
}

/**
 * Why `promise` (usually an Update) was refused: the ApplicationFailure type of a failed
 * Update, else the error's name; `undefined` when it resolved.
 */
export async function refusalType(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err instanceof WorkflowUpdateFailedError ? (err.cause as { type?: string })?.type : (err as Error).name;
  }
}

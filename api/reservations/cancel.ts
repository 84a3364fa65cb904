/**
 * `DELETE /reservations/:id` behind the route: a PENDING (or not yet written) reservation
 * is asked to cancel through its saga; a finished one is answered from its row.
 */
import { FailureType } from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import type { AppDeps } from '../context.ts';
import { notFound } from '../errors.ts';
import { requestCancellation } from './commands.ts';
import { reservationFailure } from './errors.ts';
import {
  loadReservationRecord,
  queryReservationProgress,
  toReservationView,
  type ReservationRecord,
} from './reservation-view.ts';
import type { CancellingReservationBody, ReservationView } from './schemas.ts';

/** The answer of a cancellation: 202 when handed to the saga, 200 with the view when it had already ended. */
export type CancelAnswerBody = { status: 202; body: CancellingReservationBody } | { status: 200; body: ReservationView };

/**
 * Cancels reservation `reservationId`, or answers that it already ended CANCELLED or EXPIRED
 * (cancelling again is a no-op).
 *
 * @throws ApiError 404 when there is neither a row nor a running saga; 409 when it is
 *   CONFIRMED or COMPENSATION_FAILED.
 */
export async function cancelAnswer(deps: AppDeps, log: Logger, reservationId: string): Promise<CancelAnswerBody> {
  // A finished reservation is answered from its row without signalling: a CONFIRMED one
  // may still have a running saga (notifying the data platform) that would ignore it.
  let record = await loadReservationRecord(deps.orm, reservationId);
  if (!record || record.status === 'PENDING') {
    if (await requestCancellation(deps.client, reservationId)) {
      log.info('cancellation requested');
      return { status: 202, body: { reservationId, status: 'CANCELLING' } };
    }
    // The saga finished between the read and the signal, or never existed.
    record = await loadReservationRecord(deps.orm, reservationId);
    if (!record) throw notFound(`reservation ${reservationId}`);
  }
  refuseUnlessEnded(record);
  return { status: 200, body: toReservationView(record, await queryReservationProgress(deps.client, log, reservationId)) };
}

/**
 * Refuses to cancel a reservation that is no longer PENDING unless it already ended
 * CANCELLED or EXPIRED (then cancelling again is a no-op): 409 when CONFIRMED or
 * COMPENSATION_FAILED.
 */
function refuseUnlessEnded(record: ReservationRecord): void {
  switch (record.status) {
    case 'CANCELLED':
    case 'EXPIRED':
      return;
    case 'CONFIRMED':
      throw reservationFailure(FailureType.AlreadyConfirmed, record.reservationId);
    case 'COMPENSATION_FAILED':
      throw reservationFailure(FailureType.CompensationFailed, record.reservationId, { message: record.message });
    case 'PENDING':
      throw new Error(`Reservation ${record.reservationId} is PENDING without a running saga`);
  }
}

/** The bodies the reservation routes answer with, besides the reservation view (their schemas: schemas.ts). */
import { reservationPath } from './request.ts';
import type { PendingReservationBody } from './schemas.ts';

/** The 202 body of a reservation whose hold or payment is not known yet. */
export function pendingReservationBody(reservationId: string): PendingReservationBody {
  return { reservationId, status: 'PENDING', links: { self: reservationPath(reservationId) } };
}

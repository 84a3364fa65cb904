/** The bodies the reservation routes answer with, besides the reservation view. */
import type { ReservationStatus } from '../../common/index.ts';
import { reservationPath } from './request.ts';

/** Answer of `POST /reservations` once the seats are held (201): pay before `holdExpiresAt`. */
export interface HoldView {
  reservationId: string;
  status: ReservationStatus;
  /** The held seats, ascending. */
  seatIds: number[];
  /** Price of the seats, in won. */
  totalWon: number;
  /** ISO-8601 instant the hold lapses (and the seats are released) unless paid. */
  holdExpiresAt: string;
  links: { self: string; payment: string };
}

/** Answer while a hold or payment is not known yet (202). */
export interface PendingReservationBody {
  reservationId: string;
  status: 'PENDING';
  links: { self: string };
}

/** Answer of `DELETE /reservations/:id` when the cancellation was handed to the saga (202). */
export interface CancellingReservationBody {
  reservationId: string;
  status: 'CANCELLING';
}

/** The 202 body of a reservation whose hold or payment is not known yet. */
export function pendingReservationBody(reservationId: string): PendingReservationBody {
  return { reservationId, status: 'PENDING', links: { self: reservationPath(reservationId) } };
}

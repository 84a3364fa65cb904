/**
 * Identity of a reservation request: how its `Idempotency-Key` becomes the reservation
 * id (and so the workflow id), and the fingerprint that recognizes a reused key.
 */
import { createHash, randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { IDEMPOTENCY_NAMESPACE } from '../idempotency.ts';

/**
 * Reservation id: uuid v5 of `reservation:<userId>:<key>` when a key is given (same user
 * and key, same reservation and saga), else a random UUID.
 */
export function reservationIdFor(userId: number, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined
    ? randomUUID()
    : uuidv5(`reservation:${userId}:${idempotencyKey}`, IDEMPOTENCY_NAMESPACE);
}

/** The normalized request a reservation fingerprint covers; `seatIds` sorted ascending, `holdMs` in ms. */
export interface ReservationRequest {
  userId: number;
  performanceId: number;
  seatIds: readonly number[];
  holdMs: number;
}

/**
 * Fingerprint of a reservation request: hex SHA-256 of
 * `JSON.stringify({userId, performanceId, seatIds, holdMs})` with the seat ids sorted
 * ascending and the hold resolved to ms (an omitted `holdSeconds` counts as the default).
 */
export function reservationRequestHash(request: ReservationRequest): string {
  const { userId, performanceId, seatIds, holdMs } = request;
  const normalized = { userId, performanceId, seatIds: [...seatIds].sort((a, b) => a - b), holdMs };
  return createHash('sha256').update(JSON.stringify(normalized)).digest('hex');
}

/** Path of a reservation resource: `/reservations/<reservationId>`. */
export function reservationPath(reservationId: string): string {
  return `/reservations/${reservationId}`;
}

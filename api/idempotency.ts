/**
 * Idempotency: how a request's `Idempotency-Key` becomes the id of the saga it starts
 * (and so its workflow id), and how a reused key with a different body is recognized.
 * The one place that computes the digests, for every saga (orders, reservations,
 * top-ups), from the seeds and canonical request forms of common/ids.ts, which cannot
 * compute them itself (the workflow bundle has no node:crypto).
 */
import { createHash, randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import {
  IDEMPOTENCY_NAMESPACE,
  orderIdSeed,
  orderRequestForm,
  reservationIdSeed,
  reservationRequestForm,
  topUpIdSeed,
  type OrderItem,
  type ReservationRequest,
} from '../common/index.ts';
import { ApiError, ErrorCode, validationError, type ProblemExtensions } from './errors.ts';

/** Request header carrying the client's idempotency key. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

/**
 * Reads the optional `Idempotency-Key` header.
 *
 * @returns the key, or undefined when the header is absent.
 * @throws ApiError 400 ValidationFailed (path `Idempotency-Key`) unless it is 1..200
 *   characters of `[A-Za-z0-9_.:-]` (given once).
 */
export function readIdempotencyKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(raw)) {
    throw validationError([
      { path: IDEMPOTENCY_KEY_HEADER, message: 'must be 1 to 200 characters of A-Z a-z 0-9 _ . : -' },
    ]);
  }
  return raw;
}

/**
 * The 422 `IdempotencyKeyReused` error: the key was used before with a different request
 * body. `details` names the saga the key belongs to (e.g. `{ orderId }`); they become
 * extension members of the problem answer.
 */
export function idempotencyKeyReused(details: ProblemExtensions): ApiError {
  return new ApiError(422, ErrorCode.IdempotencyKeyReused, 'This Idempotency-Key was already used with a different request body', {
    details,
  });
}

/** A saga id: uuid v5 of `seed` in {@link IDEMPOTENCY_NAMESPACE} when the request has a key, else a random UUID. */
function sagaIdFor(seed: string | undefined): string {
  return seed === undefined ? randomUUID() : uuidv5(seed, IDEMPOTENCY_NAMESPACE);
}

/** Hex SHA-256 of a canonical request form. */
function fingerprint(form: string): string {
  return createHash('sha256').update(form).digest('hex');
}

/** Order id: uuid v5 of `<userId>:<key>` when a key is given (same key, same order), else random. */
export function orderIdFor(userId: number, idempotencyKey: string | undefined): string {
  return sagaIdFor(idempotencyKey === undefined ? undefined : orderIdSeed(userId, idempotencyKey));
}

/**
 * Reservation id: uuid v5 of `reservation:<userId>:<key>` when a key is given (same user
 * and key, same reservation and saga), else a random UUID.
 */
export function reservationIdFor(userId: number, idempotencyKey: string | undefined): string {
  return sagaIdFor(idempotencyKey === undefined ? undefined : reservationIdSeed(userId, idempotencyKey));
}

/** Top-up id: uuid v5 of `topup:<userId>:<key>` when a key is given, else random. */
export function topUpIdFor(userId: number, idempotencyKey: string | undefined): string {
  return sagaIdFor(idempotencyKey === undefined ? undefined : topUpIdSeed(userId, idempotencyKey));
}

/** Fingerprint of an order request: hex SHA-256 of its canonical form (`orderRequestForm`; items sorted by product id). */
export function orderRequestHash(userId: number, items: readonly OrderItem[]): string {
  return fingerprint(orderRequestForm(userId, items));
}

/** Fingerprint of a reservation request: hex SHA-256 of its canonical form (`reservationRequestForm`). */
export function reservationRequestHash(request: ReservationRequest): string {
  return fingerprint(reservationRequestForm(request));
}

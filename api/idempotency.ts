/**
 * Idempotency: how a request's `Idempotency-Key` becomes the id of the saga it starts
 * (and so its workflow id), and how a reused key with a different body is recognized.
 * The one place that computes the digests, for every saga (orders, reservations,
 * top-ups), from the messages and canonical request forms of common/ids.ts, which cannot
 * compute them itself (the workflow bundle has no node:crypto and no secret).
 *
 * A derived id is keyed with the server's secret (IDEMPOTENCY_SECRET): HMAC-SHA256 of
 * `[kind, userId, key]` shaped as an RFC 9562 UUID version 8 (custom), so the same key
 * sent by two users gives two sagas, and nobody without the secret can compute another
 * user's order id from a guessable key. Without a key the id is a random UUID (v4).
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import {
  orderRequestForm,
  reservationRequestForm,
  sagaIdMessage,
  type OrderItem,
  type ReservationRequest,
  type SagaIdKind,
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

/**
 * The first 16 bytes of HMAC-SHA256(`secret`, `message`) as an RFC 9562 UUID version 8:
 * the version nibble set to 8 and the variant bits to `10`, 122 bits of the digest kept.
 */
export function keyedUuid(secret: string, message: string): string {
  const bytes = createHmac('sha256', secret).update(message).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A saga id: {@link keyedUuid} of `[kind, userId, key]` when the request has a key, else a random UUID. */
function sagaIdFor(kind: SagaIdKind, secret: string, userId: number, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined ? randomUUID() : keyedUuid(secret, sagaIdMessage(kind, userId, idempotencyKey));
}

/** Hex SHA-256 of a canonical request form. */
function fingerprint(form: string): string {
  return createHash('sha256').update(form).digest('hex');
}

/**
 * Order id of user `userId`'s request with `idempotencyKey`: keyed with `secret` (config
 * `idempotency.secret`), so the same user and key give the same order, another user or
 * secret another one; random without a key.
 */
export function orderIdFor(secret: string, userId: number, idempotencyKey: string | undefined): string {
  return sagaIdFor('order', secret, userId, idempotencyKey);
}

/** Reservation id: as {@link orderIdFor}, in its own kind (`reservation`), so an order and a reservation with one key differ. */
export function reservationIdFor(secret: string, userId: number, idempotencyKey: string | undefined): string {
  return sagaIdFor('reservation', secret, userId, idempotencyKey);
}

/** Top-up id: as {@link orderIdFor}, in its own kind (`topup`). */
export function topUpIdFor(secret: string, userId: number, idempotencyKey: string | undefined): string {
  return sagaIdFor('topup', secret, userId, idempotencyKey);
}

/** Fingerprint of an order request: hex SHA-256 of its canonical form (`orderRequestForm`; items sorted by product id). */
export function orderRequestHash(userId: number, items: readonly OrderItem[]): string {
  return fingerprint(orderRequestForm(userId, items));
}

/** Fingerprint of a reservation request: hex SHA-256 of its canonical form (`reservationRequestForm`). */
export function reservationRequestHash(request: ReservationRequest): string {
  return fingerprint(reservationRequestForm(request));
}

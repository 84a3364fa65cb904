/**
 * Idempotency: how a request's `Idempotency-Key` becomes the id of the saga it starts
 * (and so its workflow id), and how a reused key with a different body is recognized.
 */
import { createHash, randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { OrderItem } from '../common/index.ts';
import { ApiError, ErrorCode, validationError, type ProblemExtensions } from './errors.ts';

/**
 * Fixed UUID namespace of the ids derived from Idempotency-Keys. Part of the public
 * contract: changing it would let a retried request start a second saga.
 */
export const IDEMPOTENCY_NAMESPACE = 'ea0817c1-6f1b-4243-9fcb-fe68a6d81685';

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

/** Order id: uuid v5 of `<userId>:<key>` when a key is given (same key, same order), else random. */
export function orderIdFor(userId: number, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined ? randomUUID() : uuidv5(`${userId}:${idempotencyKey}`, IDEMPOTENCY_NAMESPACE);
}

/** Top-up id: uuid v5 of `topup:<userId>:<key>` when a key is given, else random. */
export function topUpIdFor(userId: number, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined
    ? randomUUID()
    : uuidv5(`topup:${userId}:${idempotencyKey}`, IDEMPOTENCY_NAMESPACE);
}

/**
 * Fingerprint of an order request: hex SHA-256 of `JSON.stringify({userId, items})` with
 * `items` already sorted by product id and each item written as `{productId, quantity}`.
 */
export function orderRequestHash(userId: number, items: readonly OrderItem[]): string {
  const normalized = items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
  return createHash('sha256').update(JSON.stringify({ userId, items: normalized })).digest('hex');
}

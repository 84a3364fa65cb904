/**
 * The problem types of the API: every stable `code` an error answer can carry, with the
 * HTTP statuses it is answered with, its fixed `title` and a description. The source of
 * `GET /problems/:code` (problems/views.ts), of the problem documentation in the OpenAPI
 * document (openapi/), and of the titles problem.ts puts in problem details bodies.
 */
import { ErrorCode } from './errors.ts';
import { failureProblemTypes } from './failure-problem-types.ts';

/** Documentation of one problem type: the statuses it is answered with, its title and a description. */
export interface ProblemType {
  /** Every HTTP status this code is answered with, most usual first. */
  readonly statuses: readonly number[];
  /** The problem's fixed `title`. */
  readonly title: string;
  /** One sentence on what happened and what the client can do. */
  readonly description: string;
}

/**
 * Every stable code a client can receive, with its documentation: the {@link ErrorCode}s,
 * the reservation codes (errors.ts `ReservationErrorCode`) and the saga failure types
 * (common/failures.ts) an order or reservation ends with; plus `OrderCancelled`, the
 * reason of an order cancelled without a recorded one.
 */
export const problemTypes = {
  // Request errors (ErrorCode).
  [ErrorCode.ValidationFailed]: {
    statuses: [400],
    title: 'Validation failed',
    description: 'The body, path or query failed validation; `errors` lists every field with its dotted `path` and a `message`.',
  },
  [ErrorCode.MalformedJson]: {
    statuses: [400],
    title: 'Malformed JSON',
    description: 'The request body is not valid JSON, or not a JSON object or array.',
  },
  [ErrorCode.BadRequest]: {
    statuses: [400],
    title: 'Bad request',
    description: 'The request could not be read: a malformed request line or header, no Host header, a wrong Content-Length, or a body that ended early.',
  },
  [ErrorCode.NotFound]: {
    statuses: [404],
    title: 'Not found',
    description: 'There is no such route, or no such resource.',
  },
  [ErrorCode.AuthenticationRequired]: {
    statuses: [401],
    title: 'Authentication required',
    description: 'The route needs a bearer token (`Authorization: Bearer <token>`) and none was sent; `WWW-Authenticate` says so.',
  },
  [ErrorCode.InvalidToken]: {
    statuses: [401],
    title: 'Invalid token',
    description: 'The bearer token could not be accepted: malformed, expired, not yet valid, wrongly signed, issued by another issuer or for another audience, too large, or naming a user that does not exist. Get a new token.',
  },
  [ErrorCode.Forbidden]: {
    statuses: [403],
    title: 'Forbidden',
    description: 'The caller is authenticated but may not do this: a user on an operator route, a `userId` in the body that is not the caller\'s, or an operator token placing an order or a reservation.',
  },
  [ErrorCode.MethodNotAllowed]: {
    statuses: [405],
    title: 'Method not allowed',
    description: 'The route exists but not for this method; the `Allow` header lists the methods it has.',
  },
  [ErrorCode.RequestTimeout]: {
    statuses: [408],
    title: 'Request timeout',
    description: 'The request line, headers or body did not arrive within the server request timeout.',
  },
  [ErrorCode.PayloadTooLarge]: {
    statuses: [413],
    title: 'Payload too large',
    description: 'The request body (or its chunk extensions) is larger than the server accepts.',
  },
  [ErrorCode.UnsupportedMediaType]: {
    statuses: [415],
    title: 'Unsupported media type',
    description: 'The body is not `application/json`, or its Content-Encoding is not supported.',
  },
  [ErrorCode.ExpectationFailed]: {
    statuses: [417],
    title: 'Expectation failed',
    description: 'The request has an `Expect` header other than `100-continue`.',
  },
  [ErrorCode.HeadersTooLarge]: {
    statuses: [431],
    title: 'Request header fields too large',
    description: 'The request line and headers are larger than the server header limit.',
  },
  [ErrorCode.AlreadyStarted]: {
    statuses: [409],
    title: 'Already started',
    description: 'A saga for this request was already started and left no record to answer from.',
  },
  [ErrorCode.IdempotencyKeyReused]: {
    statuses: [422],
    title: 'Idempotency key reused',
    description: 'The Idempotency-Key was used before with a different request; use a new key for a new request.',
  },
  [ErrorCode.UnknownUser]: {
    statuses: [422, 409],
    title: 'Unknown user',
    description: 'The user does not exist or has no point account (422 when checked before the saga starts or the queue is joined, 409 when an order was cancelled for it).',
  },
  [ErrorCode.UnknownProduct]: {
    statuses: [422, 409],
    title: 'Unknown product',
    description: 'Some product ids do not exist; `productIds` lists them (409 when an order was cancelled for it).',
  },
  [ErrorCode.CompensationFailed]: {
    statuses: [409],
    title: 'Compensation failed',
    description: 'The order or reservation failed and could not be fully undone; an operator has to resolve it.',
  },
  [ErrorCode.NotImplemented]: {
    statuses: [501],
    title: 'Not implemented',
    description: 'The API does not implement this HTTP method on any route.',
  },
  [ErrorCode.TemporalUnavailable]: {
    statuses: [503],
    title: 'Workflow service unavailable',
    description: 'The workflow service did not answer in time; retrying with the same Idempotency-Key is safe.',
  },
  [ErrorCode.DatabaseUnavailable]: {
    statuses: [503],
    title: 'Database unavailable',
    description: 'The database was unreachable, restarting or too slow; nothing was changed. Retry after the `Retry-After` seconds.',
  },
  [ErrorCode.RateLimited]: {
    statuses: [429],
    title: 'Rate limited',
    description:
      'The caller sent more writes (POST, DELETE) than allowed per minute (`RATE_LIMIT_WRITES_PER_MINUTE`, counted per token subject, or per client address without a token); nothing was done. Send it again after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` describe the window.',
  },
  [ErrorCode.IdentityProviderUnavailable]: {
    statuses: [503],
    title: 'Identity provider unavailable',
    description: 'The keys of the identity provider could not be fetched to verify the bearer token; nothing was changed. Retry after the `Retry-After` seconds.',
  },
  [ErrorCode.InternalError]: {
    statuses: [500],
    title: 'Internal error',
    description: 'Something unexpected failed; the server log has the details under the `requestId`.',
  },
  // Reservation codes (errors.ts `ReservationErrorCode`) that are not failure types.
  SagaUnavailable: {
    statuses: [503],
    title: 'Saga unavailable',
    description:
      'The reservation saga could not act on the request just now, for a reason of ours: a payment failed without a business reason (its retries ran out; the hold is kept, so paying again is safe and charges once), or the reservation is PENDING while no saga runs for it (the reconciliation will close it). Retry after `Retry-After` seconds.',
  },
  UnknownPerformance: {
    statuses: [422],
    title: 'Unknown performance',
    description: 'The performance of the reservation request or of the queue join does not exist; `performanceId` names it.',
  },
  // Coupon issuance codes (errors.ts `CouponErrorCode`).
  CouponSoldOut: {
    statuses: [409],
    title: 'Coupon sold out',
    description: 'The campaign has issued all of its coupons (first come, first served); nothing changed. Members `campaignId`, `quantity`.',
  },
  CouponAlreadyIssued: {
    statuses: [409],
    title: 'Coupon already issued',
    description: 'The caller already has a coupon of this campaign (one per user); nothing changed. Member `coupon` is the coupon they have.',
  },
  CouponCampaignNotActive: {
    statuses: [410],
    title: 'Coupon campaign not active',
    description: 'The campaign issues coupons only between `validFrom` and `validUntil`, and now is outside that window; nothing changed.',
  },
  // Saga failure types (common/failures.ts) an order or reservation can end with: failure-problem-types.ts.
  ...failureProblemTypes,
} as const satisfies Readonly<Record<string, ProblemType>>;

/** A code documented in {@link problemTypes}. */
export type ProblemCode = keyof typeof problemTypes;

/** Whether `code` is documented in {@link problemTypes}. */
export function isProblemCode(code: string): code is ProblemCode {
  return Object.hasOwn(problemTypes, code);
}

/**
 * The API's error vocabulary: one error class, the stable error codes clients can rely
 * on, and the extension members an error may carry. Every error is answered as RFC 9457
 * problem details with `Content-Type: application/problem+json` (built in problem.ts):
 * `{ "type": "/problems/<code>", "title", "status", "detail", "instance", "code",
 * "requestId", ...extension members }`, where `detail` is the error's message and the
 * extension members are its `details` (e.g. `errors: [{ path, message }]` of
 * `ValidationFailed`, `productIds` of `UnknownProduct`).
 */
import { FailureType } from '../common/index.ts';

/** Stable error codes of the HTTP API, with the status each one is answered with. */
export const ErrorCode = {
  /** 400: the body, path or query failed validation; `errors` lists `{path, message}`. */
  ValidationFailed: 'ValidationFailed',
  /** 400: the body is not valid JSON (or not a JSON object/array). */
  MalformedJson: 'MalformedJson',
  /** 400: the request could not be read (malformed request line or headers, no Host, wrong Content-Length, aborted). */
  BadRequest: 'BadRequest',
  /** 404: no such route or no such resource. */
  NotFound: 'NotFound',
  /** 401 (`WWW-Authenticate: Bearer error="invalid_token"`): the route needs a bearer token and none was sent. */
  AuthenticationRequired: 'AuthenticationRequired',
  /** 401 (`WWW-Authenticate: Bearer error="invalid_token"`): the bearer token is malformed, expired, not yet valid, wrongly signed, for another issuer or audience, too large, or its subject is not a user. */
  InvalidToken: 'InvalidToken',
  /** 403: the caller is authenticated but may not do this (a user on an operator route, a `userId` that is not the caller's, an operator placing an order). */
  Forbidden: 'Forbidden',
  /** 405: the route exists but not for this method (the `Allow` header lists the methods). */
  MethodNotAllowed: 'MethodNotAllowed',
  /** 413: the body is larger than `API_BODY_LIMIT_BYTES`. */
  PayloadTooLarge: 'PayloadTooLarge',
  /** 415: a body that is not `application/json`, or an unsupported Content-Encoding. */
  UnsupportedMediaType: 'UnsupportedMediaType',
  /** 408: the request line, headers or body did not arrive within the server's request timeout. */
  RequestTimeout: 'RequestTimeout',
  /** 417: an `Expect` header other than `100-continue`. */
  ExpectationFailed: 'ExpectationFailed',
  /** 431: the request line and headers are larger than the server's header limit (16 KiB by default). */
  HeadersTooLarge: 'HeadersTooLarge',
  /** 409: a workflow with this id exists and cannot be started again. */
  AlreadyStarted: 'AlreadyStarted',
  /** 422: the Idempotency-Key was used before with a different request body. */
  IdempotencyKeyReused: 'IdempotencyKeyReused',
  /** 422: the user has no point account. */
  UnknownUser: 'UnknownUser',
  /** 422: some product ids do not exist; `productIds` lists them. */
  UnknownProduct: 'UnknownProduct',
  /** 422: a top-up would take the balance above `POINTS_BALANCE_LIMIT`; members `userId, balancePoints, amountPoints, balanceLimitPoints`. */
  BalanceLimitExceeded: FailureType.BalanceLimitExceeded,
  /** 422 before anything starts (members `totalWon, orderTotalLimitWon`), 409 for a cancelled order: the total is above `ORDER_TOTAL_LIMIT_WON`. */
  OrderTooLarge: FailureType.OrderTooLarge,
  /** 409: an order ended COMPENSATION_FAILED; `order` is the order view. */
  CompensationFailed: 'CompensationFailed',
  /** 501: an HTTP method the API does not implement at all. */
  NotImplemented: 'NotImplemented',
  /**
   * 429 (with `Retry-After` and the `RateLimit-*` headers): the caller sent more writes
   * than RATE_LIMIT_WRITES_PER_MINUTE within the minute; nothing was done. Members `limit`, `retryAfterSeconds`.
   */
  RateLimited: 'RateLimited',
  /** 503: Temporal did not answer in time; retrying with the same Idempotency-Key is safe. */
  TemporalUnavailable: 'TemporalUnavailable',
  /** 503: PostgreSQL was unreachable, restarting or too slow; nothing was changed, retrying is safe (`Retry-After`). */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** 503: the identity provider's keys (AUTH_JWKS_URL) could not be fetched to verify the token; retry after `Retry-After`. */
  IdentityProviderUnavailable: 'IdentityProviderUnavailable',
  /** 500: anything unexpected; logged with its stack, never described to the client. */
  InternalError: 'InternalError',
} as const;

/** Stable error codes specific to concerts and reservations, on top of {@link ErrorCode}. */
export const ReservationErrorCode = {
  /** 422: the performance of a reservation request does not exist; member `performanceId`. */
  UnknownPerformance: 'UnknownPerformance',
  /** 422: some seat ids do not exist or belong to another performance; member `seatIds` lists them. */
  UnknownSeat: FailureType.UnknownSeat,
  /** 409: a requested seat is held or sold; member `seatIds` lists them when known. */
  SeatUnavailable: FailureType.SeatUnavailable,
  /**
   * 409: the user already has RESERVATION_MAX_LIVE_HOLDS live holds, or the request would
   * hold more than RESERVATION_MAX_HELD_SEATS seats; nothing was held. Members (when refused
   * before the saga) `userId, liveHolds, heldSeats, requestedSeats, maxLiveHolds, maxHeldSeats`.
   */
  HoldLimitExceeded: FailureType.HoldLimitExceeded,
  /** 402: the balance is below the price; the hold is kept. Members `reservationId, userId, balancePoints, requiredPoints`. */
  InsufficientPoints: FailureType.InsufficientPoints,
  /** 410: the hold expired (the seats were released) before the reservation was paid. */
  HoldExpired: FailureType.HoldExpired,
  /** 409: the reservation was cancelled (by its user, or its hold was refused). */
  ReservationCancelled: FailureType.ReservationCancelled,
  /** 409: the reservation is already paid and confirmed. */
  AlreadyConfirmed: FailureType.AlreadyConfirmed,
  /** 409: a cancellation was refused because the reservation's payment is under way; read the reservation, cancel again if the payment failed. */
  PaymentInProgress: FailureType.PaymentInProgress,
  /**
   * 503 (with `Retry-After`): the reservation's saga could not act just now: a payment
   * failed for a reason of ours (the hold is kept: pay again), or the reservation is
   * PENDING while no saga runs for it (the reconciliation closes it).
   */
  SagaUnavailable: 'SagaUnavailable',
  /**
   * 403: holding seats or paying needs the caller's queue token for the performance
   * (header `Queue-Token`), and none was sent, or the one sent is unknown, not the
   * caller's, for another performance, or (paying) not the token the reservation was held with; nothing changed.
   */
  QueueTokenRequired: FailureType.QueueTokenRequired,
  /** 403: the caller's queue token is still WAITING; nothing changed. Members `tokenId, position`. */
  QueueTokenNotActive: FailureType.QueueTokenNotActive,
  /** 403: the caller's queue token has ended (paid, timed out or cancelled): join the queue again; nothing changed. Member `tokenId`. */
  QueueTokenExpired: FailureType.QueueTokenExpired,
  /**
   * 409: the queue token already admits a PENDING reservation (one at a time), on `POST
   * /reservations`; or, on `DELETE /queue/tokens/:id`, it cannot be cancelled while that
   * reservation is PENDING (cancel the reservation first). Members `tokenId, reservationId`.
   */
  QueueTokenInUse: FailureType.QueueTokenInUse,
} as const;

/** Stable error codes of coupon issuance (`POST /coupon-campaigns/:id/issues`), on top of {@link ErrorCode}. */
export const CouponErrorCode = {
  /** 409: the campaign has issued all of its coupons; nothing changed. Members `campaignId, quantity`. */
  CouponSoldOut: 'CouponSoldOut',
  /** 409: the caller already has a coupon of this campaign (one per user); member `coupon` is it. */
  CouponAlreadyIssued: 'CouponAlreadyIssued',
  /** 410: the campaign issues coupons only within its window, and now is outside it. Members `campaignId, validFrom, validUntil`. */
  CouponCampaignNotActive: 'CouponCampaignNotActive',
} as const;

/**
 * An error code: one of {@link ErrorCode} or, for a cancelled order, the saga's failure
 * type (`OutOfStock`, `InsufficientPoints`, ...).
 */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | (string & {});

/** The members every problem answer has (`instance` when the path is known); extension members may not use these names. */
export const STANDARD_PROBLEM_MEMBERS = ['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId'] as const;

/** One of {@link STANDARD_PROBLEM_MEMBERS}. */
export type StandardProblemMember = (typeof STANDARD_PROBLEM_MEMBERS)[number];

/**
 * Extension members of a problem answer: any names but the standard ones. Typed so that
 * an object literal with, say, a `code` key does not compile; {@link assertProblemExtensions}
 * refuses what gets past the types.
 */
export type ProblemExtensions = Readonly<Record<string, unknown>> & { readonly [K in StandardProblemMember]?: never };

/**
 * Refuses extension members that would overwrite a standard problem member.
 *
 * @throws TypeError naming the colliding keys (a programming error: answered 500).
 */
export function assertProblemExtensions(extensions: Readonly<Record<string, unknown>> | null | undefined): void {
  if (!extensions) return;
  const clashes = STANDARD_PROBLEM_MEMBERS.filter((member) => Object.hasOwn(extensions, member));
  if (clashes.length > 0) {
    throw new TypeError(`Problem extension members may not be named ${clashes.join(', ')}`);
  }
}

/** One validation problem: `path` is dotted (`items.0.quantity`), empty for the whole body. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/**
 * An error with an HTTP status and a stable code; the error middleware answers it as
 * problem details, `message` as the `detail` and `details` as the extension members.
 * `headers` are set on the answer (for example `Location`).
 *
 * @throws TypeError when a `details` key is a standard problem member (`type`, `title`,
 *   `status`, `detail`, `instance`, `code`, `requestId`).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCodeValue;
  /** Extension members of the problem answer, or null. */
  readonly details: ProblemExtensions | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ErrorCodeValue,
    message: string,
    options: { details?: ProblemExtensions; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    // Checked here rather than when answering, so that the stack points at the culprit.
    assertProblemExtensions(options.details);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = options.details ?? null;
    this.headers = options.headers ?? {};
  }
}

/** A 400 `ValidationFailed` error listing `issues` in its `errors` member. */
export function validationError(issues: ValidationIssue[]): ApiError {
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return new ApiError(400, ErrorCode.ValidationFailed, `Invalid request: ${summary}`, { details: { errors: issues } });
}

/** Seconds a client is told to wait (`Retry-After`) before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * A 503 error with `code` and a `Retry-After` header (RFC 9110, section 10.2.3) of
 * `options.retryAfterSeconds` (default {@link RETRY_AFTER_SECONDS}), plus `options.details`
 * and `options.headers`: a service we depend on (Temporal, PostgreSQL) failed or was too
 * slow, the request changed nothing that a retry would repeat, and retrying is safe.
 */
export function serviceUnavailable(
  code: ErrorCodeValue,
  message: string,
  options: { retryAfterSeconds?: number; details?: ProblemExtensions; headers?: Record<string, string> } = {},
): ApiError {
  const headers = { ...options.headers, 'Retry-After': String(options.retryAfterSeconds ?? RETRY_AFTER_SECONDS) };
  return new ApiError(503, code, message, { headers, ...(options.details && { details: options.details }) });
}

/** A 404 `NotFound` error for `what` (e.g. "product 7"). */
export function notFound(what: string): ApiError {
  return new ApiError(404, ErrorCode.NotFound, `No ${what}`);
}

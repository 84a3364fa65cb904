/**
 * The API's error vocabulary: one error class, the stable error codes clients can rely
 * on, and the JSON shape every error answer has:
 * `{ "error": { "code": string, "message": string, "details": object | null } }`.
 */

/** Stable error codes of the HTTP API, with the status each one is answered with. */
export const ErrorCode = {
  /** 400: the body, path or query failed validation; `details.issues` lists `{path, message}`. */
  ValidationFailed: 'ValidationFailed',
  /** 400: the body is not valid JSON (or not a JSON object/array). */
  MalformedJson: 'MalformedJson',
  /** 400: the request could not be read (malformed request line or headers, no Host, wrong Content-Length, aborted). */
  BadRequest: 'BadRequest',
  /** 404: no such route or no such resource. */
  NotFound: 'NotFound',
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
  /** 422: some product ids do not exist; `details.productIds` lists them. */
  UnknownProduct: 'UnknownProduct',
  /** 409: an order ended COMPENSATION_FAILED; `details.order` is the order view. */
  CompensationFailed: 'CompensationFailed',
  /** 501: an HTTP method the API does not implement at all. */
  NotImplemented: 'NotImplemented',
  /** 503: Temporal did not answer in time; retrying with the same Idempotency-Key is safe. */
  TemporalUnavailable: 'TemporalUnavailable',
  /** 500: anything unexpected; logged with its stack, never described to the client. */
  InternalError: 'InternalError',
} as const;

/**
 * An error code: one of {@link ErrorCode} or, for a cancelled order, the saga's failure
 * type (`OutOfStock`, `InsufficientPoints`, ...).
 */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | (string & {});

/** JSON body of every error answer. */
export interface ErrorBody {
  error: {
    code: ErrorCodeValue;
    message: string;
    details: Record<string, unknown> | null;
  };
}

/** One validation problem: `path` is dotted (`items.0.quantity`), empty for the whole body. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/**
 * An error with an HTTP status and a stable code; the error middleware answers it as
 * {@link ErrorBody}. `headers` are set on the answer (for example `Location`).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCodeValue;
  readonly details: Record<string, unknown> | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ErrorCodeValue,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = options.details ?? null;
    this.headers = options.headers ?? {};
  }
}

/** A 400 `ValidationFailed` error listing `issues`. */
export function validationError(issues: ValidationIssue[]): ApiError {
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return new ApiError(400, ErrorCode.ValidationFailed, `Invalid request: ${summary}`, { details: { issues } });
}

/** A 404 `NotFound` error for `what` (e.g. "product 7"). */
export function notFound(what: string): ApiError {
  return new ApiError(404, ErrorCode.NotFound, `No ${what}`);
}

/** Builds an {@link ErrorBody}. */
export function errorBody(code: ErrorCodeValue, message: string, details: Record<string, unknown> | null = null): ErrorBody {
  return { error: { code, message, details } };
}

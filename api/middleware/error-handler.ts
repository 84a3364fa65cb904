/**
 * The outermost middleware: turns every failure into RFC 9457 problem details
 * (`application/problem+json`, see problem.ts), logs one line per request, and never lets
 * internals (stack, SQL, gRPC messages) reach the client.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Middleware, ParameterizedContext } from 'koa';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from '../../config/logger.ts';
import type { AppState } from '../context.ts';
import { ApiError, ErrorCode, serviceUnavailable, validationError, type ErrorCodeValue, type ProblemExtensions, type ValidationIssue } from '../errors.ts';
import { PROBLEM_CONTENT_TYPE, problemDetails } from '../problem.ts';
import { isTemporalUnavailable } from '../temporal.ts';
import { isTransientDatabaseError } from '../../common/db-errors.ts';
import { REQUEST_ID_HEADER } from './request-context.ts';

/**
 * Maps a zod error to {@link ValidationIssue}s with dotted paths (`items.0.quantity`);
 * an unknown field is reported at its own path (`items.0.price: unknown field`).
 */
export function zodIssues(err: z.ZodError): ValidationIssue[] {
  const dotted = (path: readonly PropertyKey[]) => path.map((segment) => String(segment)).join('.');
  return err.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: dotted([...issue.path, key]), message: 'unknown field' }))
      : [{ path: dotted(issue.path), message: issue.message }],
  );
}

/** Status answered for a status-only outcome of the router, with its code and message. */
const EMPTY_STATUS_ERRORS: Readonly<Record<number, [string, string]>> = {
  404: [ErrorCode.NotFound, 'No such route'],
  405: [ErrorCode.MethodNotAllowed, 'Method not allowed on this route'],
  501: [ErrorCode.NotImplemented, 'Method not implemented'],
};

/** Codes for 4xx errors thrown by Koa itself (`ctx.throw`) or its helpers. */
const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  400: ErrorCode.BadRequest,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
};

/**
 * Converts any thrown value to an {@link ApiError}:
 * our ApiError as is; zod errors -> 400 ValidationFailed; Temporal "already started" ->
 * 409 AlreadyStarted; Temporal unreachable or too slow -> 503 TemporalUnavailable; PostgreSQL
 * unreachable, restarting or timed out -> 503 DatabaseUnavailable (both with `Retry-After`); exposed
 * 4xx http-errors -> their status; anything else -> undefined (an internal error).
 */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) return validationError(zodIssues(err));
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new ApiError(409, ErrorCode.AlreadyStarted, 'This request was already processed; its workflow cannot start again');
  }
  if (isTemporalUnavailable(err)) {
    return serviceUnavailable(ErrorCode.TemporalUnavailable, 'The workflow service did not answer in time; retry later');
  }
  if (isTransientDatabaseError(err)) {
    return serviceUnavailable(ErrorCode.DatabaseUnavailable, 'The database did not answer in time; retry later');
  }
  const http = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof http.status === 'number' && http.status >= 400 && http.status < 500 && http.expose === true) {
    const code = CLIENT_ERROR_CODES[http.status] ?? ErrorCode.BadRequest;
    return new ApiError(http.status, code, typeof http.message === 'string' ? http.message : 'Bad request');
  }
  return undefined;
}

/** Answers the request with the problem details of an error. */
function sendProblem(
  ctx: ParameterizedContext<AppState>,
  status: number,
  code: ErrorCodeValue,
  detail: string,
  extensions: ProblemExtensions | null = null,
): void {
  // The request-context middleware sets the id before anything can fail; this covers a
  // failure in a middleware installed ahead of it, so that `requestId` is never missing.
  let requestId = ctx.state.requestId;
  if (!requestId) {
    requestId = randomUUID();
    ctx.state.requestId = requestId;
    ctx.set(REQUEST_ID_HEADER, requestId);
  }
  ctx.status = status;
  ctx.body = problemDetails({ status, code, detail, instance: ctx.path, requestId, extensions });
  // Koa infers application/json from an object body: the type must be set after it.
  ctx.type = PROBLEM_CONTENT_TYPE;
}

/**
 * Error middleware; install it first. It answers every failure as problem details
 * (`application/problem+json`, `instance` the request path, `requestId` the answer's
 * `X-Request-Id`), and also router outcomes that carry only a status (unknown route 404,
 * wrong method 405 keeping the `Allow` header, 501).
 */
export function errorHandler(rootLogger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
      const empty = EMPTY_STATUS_ERRORS[ctx.status];
      if (empty && (ctx.body === undefined || ctx.body === null)) {
        sendProblem(ctx, ctx.status, empty[0], `${empty[1]}: ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const log = ctx.state.log ?? rootLogger;
      const mapped = toApiError(err);
      if (mapped) {
        for (const [name, value] of Object.entries(mapped.headers)) ctx.set(name, value);
        sendProblem(ctx, mapped.status, mapped.code, mapped.message, mapped.details);
        if (mapped.status >= 500) log.warn({ err, code: mapped.code }, 'request failed');
      } else {
        log.error({ err }, 'unexpected error');
        sendProblem(ctx, 500, ErrorCode.InternalError, 'Internal error; see the server log for this request id');
      }
    } finally {
      const log = ctx.state.log ?? rootLogger;
      log.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, durationMs: Math.round(performance.now() - started) },
        'request completed',
      );
    }
  };
}

/** Request id and per-request logger. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../config/logger.ts';
import type { AppState } from '../context.ts';
import { ApiError, ErrorCode } from '../errors.ts';

/** Header carrying the request id, in and out. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

const MAX_REQUEST_ID_LENGTH = 100;

/** The request id of the request being handled, for code that has no `ctx` (the Temporal client's interceptor). */
const requestScope = new AsyncLocalStorage<string>();

/**
 * The request id of the API request whose handling is running now (set by
 * {@link requestContext}); undefined outside a request.
 */
export function currentRequestId(): string | undefined {
  return requestScope.getStore();
}

/**
 * Returns a safe version of an incoming request id: only `[A-Za-z0-9._:-]` kept, at most
 * 100 characters; undefined when nothing usable is left (then a new id is generated).
 */
export function sanitizeRequestId(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const cleaned = raw.replace(/[^A-Za-z0-9._:-]/g, '').slice(0, MAX_REQUEST_ID_LENGTH);
  return cleaned.length > 0 ? cleaned : undefined;
}

/**
 * Middleware: sets `ctx.state.requestId` (the incoming `X-Request-Id`, sanitized, or a new
 * UUID), echoes it in the `X-Request-Id` response header, puts a child logger with
 * `requestId` in `ctx.state.log`, and runs the rest of the request with it as
 * {@link currentRequestId} (the Temporal client sends it on to the sagas' logs, api/temporal.ts).
 *
 * @throws ApiError 400 BadRequest for an HTTP/1.1 request without a Host header.
 */
export function requestContext(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const requestId = sanitizeRequestId(ctx.get(REQUEST_ID_HEADER)) ?? randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set(REQUEST_ID_HEADER, requestId);
    // server.ts turns off Node's Host check (its 400 has no body); the refusal RFC 9112
    // requires for an HTTP/1.1 request without Host is made here, as problem details.
    if (ctx.req.httpVersion === '1.1' && ctx.req.headers.host === undefined) {
      throw new ApiError(400, ErrorCode.BadRequest, 'An HTTP/1.1 request needs a Host header');
    }
    await requestScope.run(requestId, next);
  };
}

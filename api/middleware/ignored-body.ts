/**
 * Bodies sent to routes that take none. Node hands a request to the app as soon as its
 * head is parsed; a GET or DELETE route acts on the head alone, so without this it could
 * act (DELETE signals a cancellation) on a request whose body then turns out malformed,
 * while the client is answered 400. Found by the hostile-input property tests:
 * `DELETE /reservations/<id>` with `Transfer-Encoding: chunked` and a bad chunk size.
 */
import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import type { AppState } from '../context.ts';
import { ApiError, ErrorCode } from '../errors.ts';

/** Methods whose routes read no body. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/**
 * Reads `req`'s body to its end and drops it.
 * @throws ApiError 413 past `limitBytes` (declared or read); 400 when the body ends
 *   early or cannot be parsed.
 */
function drain(req: IncomingMessage, declaredLength: number | undefined, limitBytes: number): Promise<void> {
  const tooLarge = () => new ApiError(413, ErrorCode.PayloadTooLarge, `The request body is larger than ${limitBytes} bytes`);
  if (declaredLength !== undefined && declaredLength > limitBytes) return Promise.reject(tooLarge());
  return new Promise<void>((resolve, reject) => {
    let size = 0;
    const done = (err?: ApiError) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      // Past the limit the rest is left unread: Node discards it after the answer.
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.pause();
        done(tooLarge());
      }
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(new ApiError(400, ErrorCode.BadRequest, 'The request body could not be read', { cause: err }));
    const onClose = () => done(new ApiError(400, ErrorCode.BadRequest, 'The request body ended early'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * Middleware: for a GET, HEAD, DELETE or OPTIONS request that carries a body, reads the
 * body (and drops it) before the route runs, so a request that cannot be read has no effect.
 *
 * @throws ApiError 413 PayloadTooLarge past `limitBytes`; 400 BadRequest when the body
 *   cannot be read (aborted, malformed chunks, shorter than its Content-Length).
 */
export function readIgnoredBody(limitBytes: number): Middleware<AppState> {
  return async (ctx, next) => {
    const hasBody = ctx.get('Transfer-Encoding') !== '' || (ctx.request.length ?? 0) > 0;
    if (hasBody && BODYLESS_METHODS.has(ctx.method)) await drain(ctx.req, ctx.request.length, limitBytes);
    await next();
  };
}

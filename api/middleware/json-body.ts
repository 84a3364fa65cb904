/**
 * JSON request bodies only: installed on the routes that take a body, so an unknown
 * route is a 404 whatever its body.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import type { AppState } from '../context.ts';
import { ApiError, ErrorCode } from '../errors.ts';

/** Maps a body-parser (co-body / raw-body) failure to our error vocabulary. */
function bodyParseError(err: Error, limitBytes: number): ApiError {
  const { type, status } = err as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large') {
    return new ApiError(413, ErrorCode.PayloadTooLarge, `The request body is larger than ${limitBytes} bytes`);
  }
  // raw-body tags an unknown charset; inflation (the decompressor) an unknown encoding by status only.
  if (type === 'encoding.unsupported' || status === 415) {
    return new ApiError(415, ErrorCode.UnsupportedMediaType, 'Unsupported Content-Encoding');
  }
  if (err instanceof SyntaxError) {
    return new ApiError(400, ErrorCode.MalformedJson, 'The request body is not a valid JSON object or array');
  }
  return new ApiError(400, ErrorCode.BadRequest, 'The request body could not be read', { cause: err });
}

/**
 * Middleware: parses an `application/json` body of at most `limitBytes` bytes into
 * `ctx.request.body` (an `unknown` for the route's zod schema to check).
 *
 * @throws ApiError 415 UnsupportedMediaType when a body comes with another content type;
 *   413 PayloadTooLarge past `limitBytes`; 400 MalformedJson for invalid JSON.
 */
export function jsonBody(limitBytes: number): Middleware<AppState> {
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonLimit: limitBytes,
    jsonStrict: true,
    onError: (err) => {
      throw bodyParseError(err, limitBytes);
    },
  });
  return async (ctx, next) => {
    const hasBody = ctx.get('Transfer-Encoding') !== '' || (ctx.request.length ?? 0) > 0;
    if (hasBody && !ctx.is('application/json')) {
      throw new ApiError(415, ErrorCode.UnsupportedMediaType, 'The request body must be application/json');
    }
    await parse(ctx, next);
  };
}

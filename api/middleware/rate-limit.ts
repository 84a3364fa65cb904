/**
 * The per-caller rate limit of writes (issue 13): at most `RATE_LIMIT_WRITES_PER_MINUTE`
 * requests with a method other than GET, HEAD or OPTIONS per caller in a fixed one-minute
 * window, counted by rate-limiter-flexible's memory limiter (one counter per key, dropped
 * when its window ends). The caller is the token's subject (`ctx.state.caller`, set by the
 * route's access guard, which runs first), or the client address on a route without a
 * token. Past the limit the request is answered 429 `RateLimited` with `Retry-After`, and
 * nothing is done; every counted write carries `RateLimit-Limit`, `RateLimit-Remaining`
 * and `RateLimit-Reset` (seconds until the window ends).
 *
 * The counters live in this process: several API replicas each count on their own (a
 * caller gets up to N times the limit across N replicas). rate-limiter-flexible has
 * shared stores (RateLimiterRedis, RateLimiterPostgres, ...) that `writeRateLimit` could
 * take instead; see docs/operations.md.
 */
import type { Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppRouter, AppState } from '../context.ts';
import { ApiError, ErrorCode } from '../errors.ts';

/** Methods that change nothing, never counted. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Length of the window, in seconds. */
export const RATE_LIMIT_WINDOW_SECONDS = 60;

/**
 * Middleware that counts the writes of each caller and refuses those past
 * `writesPerMinute` in the current window (0: a pass-through).
 *
 * @throws ApiError 429 `RateLimited` (members `limit`, `retryAfterSeconds`; headers
 *   `Retry-After` and `RateLimit-*`) for a write past the limit.
 */
export function writeRateLimit(settings: { writesPerMinute: number }): Middleware<AppState> {
  const limit = settings.writesPerMinute;
  if (limit === 0) return (_ctx, next) => next();
  const limiter = new RateLimiterMemory({ points: limit, duration: RATE_LIMIT_WINDOW_SECONDS, keyPrefix: 'writes' });
  return async (ctx, next) => {
    if (SAFE_METHODS.has(ctx.method)) return next();
    const subject = ctx.state.caller?.subject;
    const key = subject === undefined ? `ip:${ctx.ip}` : `sub:${subject}`;
    let res: RateLimiterRes;
    try {
      res = await limiter.consume(key);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      throw rateLimited(limit, refusal);
    }
    for (const [name, value] of Object.entries(rateLimitHeaders(limit, res))) ctx.set(name, value);
    return next();
  };
}

/**
 * Puts `middleware` into every write route of `router`, right after the route's access
 * guard (its first middleware, so the caller is known). Call it after the guards are in.
 */
export function limitWriteRoutes(router: AppRouter, middleware: Middleware<AppState>): void {
  for (const layer of router.stack) {
    if (!layer.methods.some((method) => !SAFE_METHODS.has(method))) continue;
    layer.stack.splice(1, 0, middleware);
  }
}

/** The `RateLimit-*` headers of a counted request: the limit, what is left, seconds until the window ends. */
function rateLimitHeaders(limit: number, res: RateLimiterRes): Record<string, string> {
  return {
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(res.remainingPoints),
    'RateLimit-Reset': String(Math.max(1, Math.ceil(res.msBeforeNext / 1000))),
  };
}

/** The 429 for a write past the limit; `Retry-After` is the rest of the window, in whole seconds. */
function rateLimited(limit: number, res: RateLimiterRes): ApiError {
  const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new ApiError(429, ErrorCode.RateLimited, `Too many writes: at most ${limit} per minute; retry after ${retryAfterSeconds} s`, {
    details: { limit, retryAfterSeconds },
    headers: { 'Retry-After': String(retryAfterSeconds), ...rateLimitHeaders(limit, res) },
  });
}

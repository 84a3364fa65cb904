/**
 * Authentication and the per-route access guard. Every route's access (`public`, `user`
 * or `operator`) is written once, on its documented operation (api/<resource>/openapi.ts);
 * {@link guardRoutes} puts the guard of that access in front of each registered route, so
 * the router and the OpenAPI document cannot disagree (a route without a documented access
 * stops the app from being built).
 *
 * - `public`: no token needed; an `Authorization` header sent anyway is ignored (not even
 *   parsed), so a stale token never breaks a catalog read.
 * - `user`: a valid token of a user or an operator; the handler decides what the caller may
 *   see (its own resources; an operator reads any) and do.
 * - `operator`: a valid token with the operator role; 403 `Forbidden` for a user.
 * A missing token is 401 `AuthenticationRequired`, any refused one 401 `InvalidToken`, both
 * with `WWW-Authenticate: Bearer realm="api", error="invalid_token", ...`. Tokens are never
 * logged.
 */
import type { Middleware, ParameterizedContext } from 'koa';
import type { AppRouter, AppState } from '../context.ts';
import { ApiError, ErrorCode, notFound } from '../errors.ts';
import { invalidToken, MAX_TOKEN_BYTES, type Caller, type TokenVerifier } from './verifier.ts';

/** Who may call a route: anyone, any authenticated caller, or operators only. */
export type Access = 'public' | 'user' | 'operator';

/** A route's access as the guard needs it: `METHOD` (upper case) and Koa path. */
export interface RouteAccess {
  method: string;
  path: string;
  access: Access;
}

/** The token of an `Authorization: Bearer <token>` header. @throws ApiError 401 when there is none or it is malformed. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw invalidToken('a bearer token is required', ErrorCode.AuthenticationRequired);
  if (header.length > MAX_TOKEN_BYTES + 7) throw invalidToken(`token larger than ${MAX_TOKEN_BYTES} bytes`);
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match?.[1]) throw invalidToken('malformed Authorization header: expected Bearer <token>');
  return match[1];
}

/** Middleware for one route of `access`: authenticates into `ctx.state.caller` and refuses users on operator routes. */
export function guard(access: Access, verify: TokenVerifier): Middleware<AppState> {
  if (access === 'public') return (_ctx, next) => next();
  return async (ctx, next) => {
    // Node joins repeated headers; two Authorization headers are ambiguous: refused, whatever they hold.
    if ((ctx.req.headersDistinct.authorization?.length ?? 0) > 1) throw invalidToken('more than one Authorization header');
    const caller = await verify(bearerToken(ctx.get('Authorization') || undefined));
    ctx.state.caller = caller;
    ctx.state.log = ctx.state.log.child({ caller: caller.subject, operator: caller.operator });
    if (access === 'operator' && !caller.operator) throw forbidden('This route is for operators');
    return next();
  };
}

/**
 * Puts the guard of its documented access first in every route of `router` (call it after
 * every route is registered).
 * @throws Error naming a registered route whose access is not documented.
 */
export function guardRoutes(router: AppRouter, routes: readonly RouteAccess[], verify: TokenVerifier): void {
  for (const layer of router.stack) {
    const methods = layer.methods.filter((method) => method !== 'HEAD');
    if (methods.length === 0) continue;
    const accesses = new Set(methods.map((method) => routes.find((r) => r.method === method && r.path === layer.path)?.access));
    const [access] = accesses;
    if (accesses.size !== 1 || access === undefined) throw new Error(`${methods.join(',')} ${String(layer.path)} has no single documented access`);
    layer.stack.unshift(guard(access, verify));
  }
}

/** A 403 `Forbidden` error. */
export function forbidden(message: string): ApiError {
  return new ApiError(403, ErrorCode.Forbidden, message);
}

/** The caller of a guarded route. @throws Error on a public route (a programming error: 500). */
export function callerOf(ctx: ParameterizedContext<AppState>): Caller {
  const { caller } = ctx.state;
  if (!caller) throw new Error(`${ctx.method} ${ctx.path} reads the caller but is public`);
  return caller;
}

/**
 * The user a request acts for (placing an order or a reservation): the caller's own id.
 * @throws ApiError 403 `Forbidden` for an operator, or when `bodyUserId` is given and is not the caller's.
 */
export function actingUserId(caller: Caller, bodyUserId: number | undefined): number {
  if (caller.userId === undefined) throw forbidden('An operator token cannot act as a user; use the user\'s own token');
  if (bodyUserId !== undefined && bodyUserId !== caller.userId) throw forbidden('userId is not the caller\'s: a user acts only as themselves');
  return caller.userId;
}

/** Whether `caller` may read what belongs to `ownerId` (their own, or any for an operator). */
export function mayRead(caller: Caller, ownerId: number | null | undefined): boolean {
  return caller.operator || (ownerId !== null && ownerId !== undefined && ownerId === caller.userId);
}

/**
 * Refuses a read of `what` (e.g. "order <id>"), owned by `ownerId`, unless {@link mayRead}.
 * @throws ApiError 404 `NotFound`, the same answer as for a resource that does not exist.
 */
export function assertMayRead(caller: Caller, ownerId: number | null | undefined, what: string): void {
  if (!mayRead(caller, ownerId)) throw notFound(what);
}

/**
 * Refuses an action on `what` (paying, cancelling, topping up) unless the caller is the
 * user who owns it (`ownerId`; null or undefined when it does not exist).
 * @throws ApiError 404 `NotFound` when it does not exist or belongs to another user; 403
 *   `Forbidden` for an operator (operators act on nobody's behalf).
 */
export function assertActsOn(caller: Caller, ownerId: number | null | undefined, what: string): void {
  if (ownerId === null || ownerId === undefined) throw notFound(what);
  if (caller.operator) throw forbidden('An operator token cannot act as a user; use the user\'s own token');
  if (ownerId !== caller.userId) throw notFound(what);
}

/**
 * The validity oracle: written from the API contract (README table, route docs,
 * openapi.json), not from the route code, and deliberately generous: it says a request
 * *might be accepted* (a 2xx, or a call to Temporal) whenever the contract does not
 * clearly refuse it. The generators must never produce such a request as an invalid one,
 * and every request they generate as valid (a list's valid query, `GET /problems/<known
 * code>`) must be one; the test asserts that for every request. The lists' paging rules
 * are exact (pages.ts).
 *
 * It reads a request the way Node and Koa do: duplicate Content-Type/Host keep the
 * first, other duplicate headers are joined with ", "; values are trimmed; routes match
 * case-insensitively with an optional trailing slash; path parameters are
 * percent-decoded (kept as is when that fails); the body is decoded as UTF-8 whatever
 * the charset, a leading BOM dropped. A route that needs a token (`x-access` of the
 * contract) refuses a request without one of the fixtures' valid tokens (tokens.ts).
 */
import zlib from 'node:zlib';
import { routeAccess, type ProblemTypeDocument } from './contract.ts';
import type { HostileRequest } from './http.ts';
import { pageQueryErrors } from './pages.ts';
import { popularQueryErrors } from './popular.ts';
import { carriesValidToken } from './tokens.ts';
import { MAX_INT32 } from './values.ts';

/** What exists in the database, and the server's limits. */
export interface World {
  bodyLimitBytes: number;
  /** Every user, with a point account or not. */
  users: ReadonlySet<number>;
  /** Users that have a point account. */
  accountUsers: ReadonlySet<number>;
  products: ReadonlySet<number>;
  performances: ReadonlySet<number>;
  /** Performance of each seat. */
  seatPerformance: ReadonlyMap<number, number>;
  /** The problem types of the contract, by code. */
  problemTypes: ReadonlyMap<string, ProblemTypeDocument>;
  /** The bearer tokens the API accepts (the fixtures' users'). */
  validTokens: ReadonlySet<string>;
  /** The user each of {@link validTokens} acts as. */
  callers: ReadonlyMap<string, number>;
  /** Every queue token, by id (lower case). */
  queueTokens: ReadonlyMap<string, { userId: number; performanceId: number; status: string }>;
}

const FIRST_WINS = new Set(['content-type', 'content-length', 'host', 'user-agent', 'authorization', 'from', 'referer', 'expect']);

/** A header as Node hands it to Koa: undefined when absent. */
export function headerValue(req: HostileRequest, name: string): string | undefined {
  const values = req.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v.trim());
  if (values.length === 0) return undefined;
  return FIRST_WINS.has(name) ? values[0] : values.join(', ');
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isId = (v: unknown): v is number => isInt(v, 1, MAX_INT32);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keysWithin = (v: Record<string, unknown>, required: string[], optional: string[] = []) =>
  required.every((k) => Object.hasOwn(v, k)) && Object.keys(v).every((k) => required.includes(k) || optional.includes(k));

/** Path-id formats: a positive 32-bit decimal integer without sign or leading zero; a UUID (any case). */
const pathEntityId = (raw: string): number | undefined => {
  const id = decodeParam(raw);
  return /^[1-9][0-9]{0,9}$/.test(id) && Number(id) <= MAX_INT32 ? Number(id) : undefined;
};
const pathUuid = (raw: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(decodeParam(raw));

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;
const keyOk = (req: HostileRequest) => {
  const key = headerValue(req, 'idempotency-key');
  return key === undefined || IDEMPOTENCY_KEY.test(key);
};

/** The body as the JSON routes would see it, or undefined when they would refuse it (415, 413, 400). */
function jsonBody(req: HostileRequest, limit: number): unknown {
  let bytes = req.body ?? Buffer.alloc(0);
  const hasBody = req.chunked === true || bytes.length > 0;
  const media = (headerValue(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (hasBody && media !== 'application/json') return undefined;
  if (bytes.length > limit) return undefined;
  const encoding = (headerValue(req, 'content-encoding') ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    try {
      bytes = encoding === 'br' ? zlib.brotliDecompressSync(bytes) : zlib.unzipSync(bytes);
    } catch {
      return undefined;
    }
    if (bytes.length > limit) return undefined;
  }
  const text = bytes.toString('utf8').replace(/^\ufeff/, '');
  if (text === '') return {};
  if (!/^[\x20\x09\x0a\x0d]*(\[|\{)/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A body's optional `userId`: absent (the caller, whose token names a user with an account), or a user with a point account. */
const actingUserOk = (userId: unknown, world: World) => userId === undefined || (isId(userId) && world.accountUsers.has(userId));

/** The user the request's bearer token acts as, when it carries one of the fixtures' valid tokens. */
function callerOf(req: HostileRequest, world: World): number | undefined {
  const match = /^bearer +(\S+)$/i.exec(headerValue(req, 'authorization') ?? '');
  return match ? world.callers.get(match[1]!) : undefined;
}

/** Whether the path id `raw` names a queue token of the request's caller (another user's is a 404). */
function callersQueueToken(raw: string, req: HostileRequest, world: World): boolean {
  const owner = pathUuid(raw) ? world.queueTokens.get(decodeParam(raw).toLowerCase())?.userId : undefined;
  return owner !== undefined && owner === callerOf(req, world);
}

/** The caller's queue token the `Queue-Token` header names (one UUID, any case), if it names one of the caller's. */
function callersQueueTokenHeader(req: HostileRequest, world: World): { performanceId: number; status: string } | undefined {
  const value = headerValue(req, 'queue-token');
  if (value === undefined || !pathUuid(value)) return undefined;
  const token = world.queueTokens.get(value.toLowerCase());
  return token !== undefined && token.userId === callerOf(req, world) ? token : undefined;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Might the request be accepted, given the path match, the request and the world? */
  accepts(match: RegExpExecArray, req: HostileRequest, world: World, query: string): boolean;
}

const ROUTES: Record<string, Route> = {
  'POST /orders': {
    method: 'POST',
    pattern: /^\/orders\/?$/i,
    accepts(_m, req, world) {
      const body = jsonBody(req, world.bodyLimitBytes);
      // userId is optional (the token's user); the oracle does not check that it is the caller's.
      // couponId is optional too: the saga decides on the coupon (a cancelled order is answered 422, not accepted).
      if (!keyOk(req) || !isObject(body) || !keysWithin(body, ['items'], ['userId', 'couponId'])) return false;
      const { userId, items, couponId } = body;
      if (couponId !== undefined && !isId(couponId)) return false;
      if (!actingUserOk(userId, world) || !Array.isArray(items) || items.length < 1 || items.length > 50) return false;
      const seen = new Set<number>();
      return items.every((item) => {
        if (!isObject(item) || !keysWithin(item, ['productId', 'quantity'])) return false;
        const { productId, quantity } = item;
        if (!isId(productId) || !isInt(quantity, 1, 1000) || seen.has(productId) || !world.products.has(productId)) return false;
        seen.add(productId);
        return true;
      });
    },
  },
  'GET /orders/:id': { method: 'GET', pattern: /^\/orders\/([^/]+)\/?$/i, accepts: (m) => pathUuid(m[1]!) },
  'GET /products': { method: 'GET', pattern: /^\/products\/?$/i, accepts: (_m, _req, _world, query) => pageQueryErrors('products', query).length === 0 },
  // Before `:id`, which the path also matches (and which would refuse `popular` as an id).
  'GET /products/popular': { method: 'GET', pattern: /^\/products\/popular\/?$/i, accepts: (_m, _req, _world, query) => popularQueryErrors(query).length === 0 },
  'GET /products/:id': {
    method: 'GET',
    pattern: /^\/products\/([^/]+)\/?$/i,
    accepts: (m, _req, world) => world.products.has(pathEntityId(m[1]!) ?? 0),
  },
  'GET /users/:id/points': {
    method: 'GET',
    pattern: /^\/users\/([^/]+)\/points\/?$/i,
    accepts: (m, _req, world) => world.accountUsers.has(pathEntityId(m[1]!) ?? 0),
  },
  'POST /users/:id/points/top-ups': {
    method: 'POST',
    pattern: /^\/users\/([^/]+)\/points\/top-ups\/?$/i,
    accepts(m, req, world) {
      const body = jsonBody(req, world.bodyLimitBytes);
      return (
        world.accountUsers.has(pathEntityId(m[1]!) ?? 0) &&
        keyOk(req) &&
        isObject(body) &&
        keysWithin(body, ['amount']) &&
        isInt(body.amount, 1, 10_000_000)
      );
    },
  },
  'GET /concerts': { method: 'GET', pattern: /^\/concerts\/?$/i, accepts: () => true },
  'GET /performances/:id/seats': {
    method: 'GET',
    pattern: /^\/performances\/([^/]+)\/seats\/?$/i,
    accepts: (m, _req, world) => world.performances.has(pathEntityId(m[1]!) ?? 0),
  },
  'POST /reservations': {
    method: 'POST',
    pattern: /^\/reservations\/?$/i,
    accepts(_m, req, world) {
      const body = jsonBody(req, world.bodyLimitBytes);
      if (!keyOk(req) || !isObject(body) || !keysWithin(body, ['performanceId', 'seatIds'], ['userId', 'holdSeconds'])) return false;
      const { userId, performanceId, seatIds, holdSeconds } = body;
      if (!actingUserOk(userId, world) || !isId(performanceId) || !world.performances.has(performanceId)) return false;
      // Holding needs the caller's ACTIVE queue token for the performance.
      const token = callersQueueTokenHeader(req, world);
      if (token?.status !== 'ACTIVE' || token.performanceId !== performanceId) return false;
      if (holdSeconds !== undefined && !isInt(holdSeconds, 1, 1800)) return false;
      if (!Array.isArray(seatIds) || seatIds.length < 1 || seatIds.length > 10 || new Set(seatIds).size !== seatIds.length) return false;
      return seatIds.every((seat) => isId(seat) && world.seatPerformance.get(seat) === performanceId);
    },
  },
  'POST /reservations/:id/payment': {
    method: 'POST',
    pattern: /^\/reservations\/([^/]+)\/payment\/?$/i,
    accepts(m, req, world) {
      const body = jsonBody(req, world.bodyLimitBytes);
      // Paying needs one of the caller's ACTIVE queue tokens (the reservation's performance is not the oracle's to know).
      return pathUuid(m[1]!) && isObject(body) && Object.keys(body).length === 0 && callersQueueTokenHeader(req, world)?.status === 'ACTIVE';
    },
  },
  'DELETE /reservations/:id': { method: 'DELETE', pattern: /^\/reservations\/([^/]+)\/?$/i, accepts: (m) => pathUuid(m[1]!) },
  'GET /reservations/:id': { method: 'GET', pattern: /^\/reservations\/([^/]+)\/?$/i, accepts: (m) => pathUuid(m[1]!) },
  'GET /users/:id/points/ledger': {
    method: 'GET',
    pattern: /^\/users\/([^/]+)\/points\/ledger\/?$/i,
    accepts: (m, _req, world, query) => world.accountUsers.has(pathEntityId(m[1]!) ?? 0) && pageQueryErrors('ledger', query).length === 0,
  },
  'GET /users/:id/orders': {
    method: 'GET',
    pattern: /^\/users\/([^/]+)\/orders\/?$/i,
    accepts: (m, _req, world, query) => world.users.has(pathEntityId(m[1]!) ?? 0) && pageQueryErrors('orders', query).length === 0,
  },
  // Joins for the caller; reads no Idempotency-Key.
  'POST /queue/tokens': {
    method: 'POST',
    pattern: /^\/queue\/tokens\/?$/i,
    accepts(_m, req, world) {
      const body = jsonBody(req, world.bodyLimitBytes);
      return isObject(body) && keysWithin(body, ['performanceId']) && isId(body.performanceId) && world.performances.has(body.performanceId);
    },
  },
  'GET /queue/tokens/:id': { method: 'GET', pattern: /^\/queue\/tokens\/([^/]+)\/?$/i, accepts: (m, req, world) => callersQueueToken(m[1]!, req, world) },
  'DELETE /queue/tokens/:id': { method: 'DELETE', pattern: /^\/queue\/tokens\/([^/]+)\/?$/i, accepts: (m, req, world) => callersQueueToken(m[1]!, req, world) },
  // Reads no query; the code is case-sensitive.
  'GET /problems/:code': { method: 'GET', pattern: /^\/problems\/([^/]+)\/?$/i, accepts: (m, _req, world) => world.problemTypes.has(decodeParam(m[1]!)) },
};

/**
 * Routes the suite sends nothing to, so that no generated request can land on one
 * unnoticed: any request that reaches them might be accepted.
 */
const OTHER_ROUTES: Record<string, Omit<Route, 'accepts'>> = {
  'GET /healthz': { method: 'GET', pattern: /^\/healthz\/?$/i },
  'GET /openapi.json': { method: 'GET', pattern: /^\/openapi\.json\/?$/i },
  'GET /docs': { method: 'GET', pattern: /^\/docs\/?$/i },
  'GET /docs/:asset': { method: 'GET', pattern: /^\/docs\/[^/]+\/?$/i },
  'POST /orders/:id/compensations/retry': { method: 'POST', pattern: /^\/orders\/[^/]+\/compensations\/retry\/?$/i },
  'POST /reservations/:id/compensations/retry': { method: 'POST', pattern: /^\/reservations\/[^/]+\/compensations\/retry\/?$/i },
  'GET /.well-known/jwks.json': { method: 'GET', pattern: /^\/\.well-known\/jwks\.json\/?$/i },
  'GET /coupon-campaigns': { method: 'GET', pattern: /^\/coupon-campaigns\/?$/i },
  'POST /coupon-campaigns/:id/issues': { method: 'POST', pattern: /^\/coupon-campaigns\/[^/]+\/issues\/?$/i },
  'GET /users/:id/coupons': { method: 'GET', pattern: /^\/users\/[^/]+\/coupons\/?$/i },
};

const ACCESS = routeAccess();

/** The endpoints under test, as `METHOD /path` names. */
export const ENDPOINTS = Object.keys(ROUTES);

/**
 * The route `req` might be accepted by (answered 2xx, or sent to Temporal), or undefined
 * when every route would refuse it. Requests with protocol corruption (`raw`) are refused
 * by the HTTP parser by construction and are not judged here.
 */
export function mightBeAcceptedBy(req: HostileRequest, world: World): string | undefined {
  if (req.raw) return undefined;
  // Request line and headers well over Node's 16 KiB limit are refused before any route
  // (431); near the limit the oracle does not guess.
  if (headBytes(req) > 20 * 1024) return undefined;
  const queryAt = req.target.indexOf('?');
  const path = queryAt < 0 ? req.target : req.target.slice(0, queryAt);
  const query = queryAt < 0 ? '' : req.target.slice(queryAt + 1);
  // Two Authorization headers are refused whatever they hold (api/auth/guard.ts).
  const authorizations = req.headers.filter(([k]) => k.toLowerCase() === 'authorization').length;
  const authenticated = authorizations === 1 && carriesValidToken(headerValue(req, 'authorization'), world.validTokens);
  for (const [name, route] of Object.entries(ROUTES)) {
    if (route.method !== req.method) continue;
    if (ACCESS.get(name) !== 'public' && !authenticated) continue;
    const match = route.pattern.exec(path);
    if (match && route.accepts(match, req, world, query)) return name;
  }
  for (const [name, route] of Object.entries(OTHER_ROUTES)) {
    if (route.method === req.method && route.pattern.test(path)) return name;
  }
  return undefined;
}

/** About the bytes of `req`'s request line and headers, which Node limits to 16 KiB. */
export function headBytes(req: HostileRequest): number {
  return req.target.length + req.headers.reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
}

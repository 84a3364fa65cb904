/**
 * Authentication and access, route by route, driven by the documented routes
 * (api/openapi/document.ts `DOCUMENTED_ROUTES`, each with its `access`), on the real stack:
 * - every route that needs a token refuses each odd token of test/helpers/odd-tokens.ts
 *   (none, expired, not yet valid, wrong issuer or audience, unknown kid, `alg: none`,
 *   HS256 keyed with the public key, stripped signature, over 8 KB, a subject that is no
 *   user, ...) with 401, `WWW-Authenticate: Bearer ... error="invalid_token"`, in the
 *   problem format, and nothing changes: user A's and B's rows, the fixtures' stock and
 *   seats, and the namespace's workflows are the same before and after;
 * - user B's token on user A's resources: 404 for reads and actions (no existence leak),
 *   403 for a body naming A, 422 for joining a queue that does not exist (joining acts
 *   for the caller); a user's token on operator routes: 403; an operator's token on the
 *   routes that act for a user: 403; nothing changes;
 * - every public route answers without a token, and ignores a garbage one.
 * The requests are valid but for the token: A's own token gets 200 on every read, and the
 * snapshot sees A's own top-up (so "nothing changed" is not vacuous).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { DOCUMENTED_ROUTES } from '../../api/openapi/document.ts';
import { orderWorkflowId } from '../../common/ids.ts';
import { authHeader, operatorToken, tokenFor } from '../helpers/auth.ts';
import { createPerformance, createProduct, createUser } from '../helpers/db.ts';
import { oddTokens, type OddToken } from '../helpers/odd-tokens.ts';
import { callApi, closeStack, startStack, type ApiAnswer, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

/** The fixtures: user A owns an order, an ACTIVE queue token and a reservation held with it; user B owns nothing. */
interface World {
  userA: number;
  userB: number;
  productId: number;
  performanceId: number;
  /** Seats of the performance: the first held by A's reservation, the others AVAILABLE. */
  seatIds: number[];
  orderId: string;
  reservationId: string;
  /** A's ACTIVE queue token for the performance, which holds and pays carry. */
  queueTokenId: string;
}

/** A request of one route on A's resources, valid in everything but (possibly) its bearer token. */
type Sample = (w: World) => { method: string; path: string; body?: unknown; headers?: Record<string, string> };

/** The `Queue-Token` header of A's holds and payments. */
const queueToken = (w: World) => ({ 'Queue-Token': w.queueTokenId });

/** One sample per route that needs a token; a test checks that this covers exactly the documented ones. */
const SAMPLES: Record<string, Sample> = {
  'POST /orders': (w) => ({ method: 'POST', path: '/orders', body: { userId: w.userA, items: [{ productId: w.productId, quantity: 1 }] } }),
  'GET /orders/:id': (w) => ({ method: 'GET', path: `/orders/${w.orderId}` }),
  'POST /orders/:id/compensations/retry': (w) => ({ method: 'POST', path: `/orders/${w.orderId}/compensations/retry` }),
  'GET /users/:id/orders': (w) => ({ method: 'GET', path: `/users/${w.userA}/orders` }),
  'GET /users/:id/points': (w) => ({ method: 'GET', path: `/users/${w.userA}/points` }),
  'GET /users/:id/points/ledger': (w) => ({ method: 'GET', path: `/users/${w.userA}/points/ledger` }),
  'POST /users/:id/points/top-ups': (w) => ({ method: 'POST', path: `/users/${w.userA}/points/top-ups`, body: { amount: 1 } }),
  'GET /users/:id/coupons': (w) => ({ method: 'GET', path: `/users/${w.userA}/coupons` }),
  // Issuing has no owner (it acts for the caller): the sample names no campaign, so B's token gets 404 and nothing changes.
  'POST /coupon-campaigns/:id/issues': () => ({ method: 'POST', path: '/coupon-campaigns/2147483000/issues' }),
  'POST /reservations': (w) => ({
    method: 'POST',
    path: '/reservations',
    body: { userId: w.userA, performanceId: w.performanceId, seatIds: [w.seatIds[1]], holdSeconds: 60 },
    headers: queueToken(w),
  }),
  'GET /reservations/:id': (w) => ({ method: 'GET', path: `/reservations/${w.reservationId}` }),
  'POST /reservations/:id/payment': (w) => ({ method: 'POST', path: `/reservations/${w.reservationId}/payment`, headers: queueToken(w) }),
  'DELETE /reservations/:id': (w) => ({ method: 'DELETE', path: `/reservations/${w.reservationId}` }),
  'POST /reservations/:id/compensations/retry': (w) => ({ method: 'POST', path: `/reservations/${w.reservationId}/compensations/retry` }),
  // Joining acts for the caller: the sample names no performance, so B's token gets 422 and nothing changes.
  'POST /queue/tokens': () => ({ method: 'POST', path: '/queue/tokens', body: { performanceId: 2147483000 } }),
  'GET /queue/tokens/:id': (w) => ({ method: 'GET', path: `/queue/tokens/${w.queueTokenId}` }),
  'DELETE /queue/tokens/:id': (w) => ({ method: 'DELETE', path: `/queue/tokens/${w.queueTokenId}` }),
};

/**
 * What user B's token gets on A's resources: 404 where the route reads or acts on them,
 * 403 where a body names A or the route is for operators, 422 for a queue that does not exist.
 */
const AS_ANOTHER_USER: Record<string, 403 | 404 | 422> = {
  'POST /orders': 403,
  'GET /orders/:id': 404,
  'POST /orders/:id/compensations/retry': 403,
  'GET /users/:id/orders': 404,
  'GET /users/:id/points': 404,
  'GET /users/:id/points/ledger': 404,
  'POST /users/:id/points/top-ups': 404,
  'GET /users/:id/coupons': 404,
  'POST /coupon-campaigns/:id/issues': 404,
  'POST /reservations': 403,
  'GET /reservations/:id': 404,
  'POST /reservations/:id/payment': 404,
  'DELETE /reservations/:id': 404,
  'POST /reservations/:id/compensations/retry': 403,
  'POST /queue/tokens': 422,
  'GET /queue/tokens/:id': 404,
  'DELETE /queue/tokens/:id': 404,
};

/** The problem code of each status {@link AS_ANOTHER_USER} expects. */
const CODE_OF: Record<403 | 404 | 422, string> = { 403: 'Forbidden', 404: 'NotFound', 422: 'UnknownPerformance' };

/** A sample path for each public route. */
const PUBLIC_PATHS: Record<string, (w: World) => string> = {
  'GET /products': () => '/products',
  'GET /products/popular': () => '/products/popular',
  'GET /products/:id': (w) => `/products/${w.productId}`,
  'GET /coupon-campaigns': () => '/coupon-campaigns',
  'GET /concerts': () => '/concerts',
  'GET /performances/:id/seats': (w) => `/performances/${w.performanceId}/seats`,
  'GET /healthz': () => '/healthz',
  'GET /openapi.json': () => '/openapi.json',
  'GET /docs': () => '/docs',
  'GET /docs/:asset': () => '/docs/swagger-ui.css',
  'GET /problems/:code': () => '/problems/NotFound',
  'GET /.well-known/jwks.json': () => '/.well-known/jwks.json',
};

const routeName = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;
const GUARDED = DOCUMENTED_ROUTES.filter((r) => r.access !== 'public').map(routeName).sort();
const PUBLIC = DOCUMENTED_ROUTES.filter((r) => r.access === 'public').map(routeName).sort();
const OPERATOR = new Set(DOCUMENTED_ROUTES.filter((r) => r.access === 'operator').map(routeName));

let stack: TestStack;
let w: World;
let odd: OddToken[];

beforeAll(async () => {
  stack = await startStack();
  const { orm } = stack;
  const userA = await createUser(orm, 1_000_000);
  const userB = await createUser(orm, 1_000_000);
  const productId = await createProduct(orm, 100, 1_000);
  const { performanceId, seatIds } = await createPerformance(orm, 4, 1_000);
  const order = await callApi(stack, 'POST', '/orders', { userId: userA, items: [{ productId, quantity: 1 }] });
  expect(order.status).toBe(201);
  await stack.env.client.workflow.getHandle(orderWorkflowId(order.body.orderId)).result();
  const joined = await callApi(stack, 'POST', '/queue/tokens', { performanceId }, {}, { as: userA });
  expect(joined.body).toMatchObject({ status: 'ACTIVE' });
  const queueTokenId: string = joined.body.tokenId;
  const reservation = await callApi(stack, 'POST', '/reservations', { userId: userA, performanceId, seatIds: [seatIds[0]], holdSeconds: 1800 }, { 'Queue-Token': queueTokenId });
  expect(reservation.status).toBe(201);
  w = { userA, userB, productId, performanceId, seatIds, orderId: order.body.orderId, reservationId: reservation.body.reservationId, queueTokenId };
  odd = await oddTokens(userA, 2_147_483_000);
  // Visibility lags: the snapshots compare workflow lists only once both sagas are listed.
  await pollUntil('both sagas to be listed', async () => (await workflows()).length === 2, { timeoutMs: 15_000, intervalMs: 100 });
});

afterAll(async () => {
  await closeStack(stack);
});

/** Every workflow of the suite's namespace, with its status. */
async function workflows(): Promise<string[]> {
  const listed: string[] = [];
  for await (const wf of stack.env.client.workflow.list()) listed.push(`${wf.workflowId} ${wf.status.name}`);
  return listed.sort();
}

/** Everything a request on A's or B's behalf could change. */
async function snapshot(): Promise<unknown> {
  const q = (sql: string, params: unknown[]) => stack.orm.em.fork().execute(sql, params);
  const users = [w.userA, w.userB];
  return {
    accounts: await q('select user_id, balance_points from point_accounts where user_id in (?, ?) order by user_id', users),
    ledger: await q('select account_user_id, kind, amount_points, reference from point_ledger where account_user_id in (?, ?) order by id', users),
    orders: await q('select id, user_id, status, total_won from orders where user_id in (?, ?) order by id', users),
    lines: await q('select l.order_id, l.product_id, l.quantity from order_lines l join orders o on o.id = l.order_id where o.user_id in (?, ?) order by l.id', users),
    stockLines: await q('select s.order_id, s.status, s.quantity from stock_reservations s join orders o on o.id = s.order_id where o.user_id in (?, ?) order by s.id', users),
    stock: await q('select stock from products where id = ?', [w.productId]),
    reservations: await q('select id, user_id, status, seat_ids from reservations where user_id in (?, ?) order by id', users),
    seats: await q('select id, status, reservation_id from seats where performance_id = ? order by id', [w.performanceId]),
    coupons: await q('select campaign_id, user_id, status, order_id from coupons where user_id in (?, ?) order by id', users),
    queueTokens: await q('select id, user_id, performance_id, ticket, status, admitted_at, active_until, ended_at from queue_tokens where user_id in (?, ?) order by id', users),
    queueCounter: await q('select last_ticket, waiting from queue_counters where performance_id = ?', [w.performanceId]),
    workflows: await workflows(),
  };
}

/** Sends `sample` with its headers and exactly `authorization` (undefined: no Authorization header). */
function send(sample: ReturnType<Sample>, authorization: string | undefined): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...sample.headers, ...(authorization === undefined ? {} : { authorization }) };
  // callApi adds no token of its own when the headers carry one; 'anonymous' covers "none".
  return callApi(stack, sample.method, sample.path, sample.body, headers, { as: 'anonymous' });
}

function expectProblem(answer: ApiAnswer, status: number, codes: string[], context: string): void {
  const code = answer.body?.code as string | undefined;
  expect({ context, status: answer.status, type: answer.headers.get('content-type'), code: codes.includes(code ?? '') ? 'expected' : code, bodyStatus: answer.body?.status }).toEqual({
    context,
    status,
    type: expect.stringMatching(/^application\/problem\+json/),
    code: 'expected',
    bodyStatus: status,
  });
}

describe('the matrix is driven by the documented routes', () => {
  it('has a sample for every route that needs a token, and a path for every public route', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(GUARDED);
    expect(Object.keys(AS_ANOTHER_USER).sort()).toEqual(GUARDED);
    expect(Object.keys(PUBLIC_PATHS).sort()).toEqual(PUBLIC);
    expect(OPERATOR).toEqual(new Set(['POST /orders/:id/compensations/retry', 'POST /reservations/:id/compensations/retry']));
  });

  it("answers A's own token 200 on every read sample (the samples are valid but for the token)", async () => {
    const token = await tokenFor(w.userA);
    for (const name of GUARDED.filter((n) => n.startsWith('GET '))) {
      const answer = await send(SAMPLES[name]!(w), `Bearer ${token}`);
      expect({ name, status: answer.status }).toEqual({ name, status: 200 });
    }
  });
});

describe('every route that needs a token refuses odd tokens with 401 and changes nothing', () => {
  it.each(GUARDED)('%s', async (name) => {
    const sample = SAMPLES[name]!(w);
    const before = await snapshot();
    for (const token of odd) {
      const answer = await send(sample, token.authorization);
      expectProblem(answer, 401, ['AuthenticationRequired', 'InvalidToken'], `${name}, ${token.name}`);
      expect({ token: token.name, challenge: answer.headers.get('www-authenticate') }).toEqual({
        token: token.name,
        challenge: expect.stringMatching(/^Bearer (.+, )?error="invalid_token"/),
      });
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("another user's token, a user's token on operator routes, an operator acting for a user", () => {
  it.each(GUARDED)("%s: user B on user A's resources", async (name) => {
    const before = await snapshot();
    const answer = await send(SAMPLES[name]!(w), `Bearer ${await tokenFor(w.userB)}`);
    const status = AS_ANOTHER_USER[name]!;
    expectProblem(answer, status, [CODE_OF[status]], name);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a user's own token on the operator routes with 403", async () => {
    const before = await snapshot();
    const token = await tokenFor(w.userA);
    for (const name of OPERATOR) expectProblem(await send(SAMPLES[name]!(w), `Bearer ${token}`), 403, ['Forbidden'], name);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an operator token on the routes that act for a user with 403', async () => {
    const before = await snapshot();
    const token = await operatorToken();
    const actingForAUser = [
      'POST /orders', 'POST /reservations', 'POST /reservations/:id/payment', 'DELETE /reservations/:id', 'POST /users/:id/points/top-ups',
      'POST /coupon-campaigns/:id/issues', 'POST /queue/tokens', 'DELETE /queue/tokens/:id',
    ];
    for (const name of actingForAUser) {
      expectProblem(await send(SAMPLES[name]!(w), `Bearer ${token}`), 403, ['Forbidden'], name);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('public routes', () => {
  it.each(PUBLIC)('%s answers without a token, and ignores a garbage one', async (name) => {
    const path = PUBLIC_PATHS[name]!(w);
    for (const authorization of [undefined, 'Bearer not.a.token', 'Basic Zm9vOmJhcg==']) {
      const res = await fetch(new URL(path, stack.apiUrl), { headers: authorization === undefined ? {} : { authorization } });
      await res.arrayBuffer();
      expect({ name, authorization, status: res.status }).toEqual({ name, authorization, status: 200 });
    }
  });
});

describe('the snapshot is not vacuous', () => {
  it("sees user A's own top-up", async () => {
    const before = await snapshot();
    const answer = await send(SAMPLES['POST /users/:id/points/top-ups']!(w), authHeader(await tokenFor(w.userA)).authorization);
    expect(answer.status).toBe(201);
    expect(await snapshot()).not.toEqual(before);
  });
});

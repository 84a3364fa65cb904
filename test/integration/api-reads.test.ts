/**
 * The API's read side against PostgreSQL (test database) and a real Temporal dev server:
 * products, point balances, order views, 404s, request ids and health (the lists and
 * their paging: api-lists.test.ts). Every answer is checked against the OpenAPI document.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Client, Connection } from '@temporalio/client';
import { startApiServer } from '../../api/server.ts';
import { orderWorkflowId } from '../../common/ids.ts';
import type { AppConfig } from '../../config/index.ts';
import { Order, OrderLine } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import { startTestApiOnTemporal, type TestApiOnTemporal } from '../helpers/api.ts';
import { createProduct, createUser } from '../helpers/db.ts';
import { authHeader, operatorToken } from '../helpers/auth.ts';
import { expectProblem, problemExtensions } from '../helpers/http.ts';
import { expectNoContractViolations, recordContract } from '../helpers/openapi-check.ts';
import { uniqueTaskQueue } from '../helpers/temporal.ts';

const ABSENT_ID = 2_147_483_000;
const logger = pino({ level: 'silent' });

let config: AppConfig;
let orm: Orm;
let api: TestApiOnTemporal;

beforeAll(async () => {
  api = await startTestApiOnTemporal('api-reads');
  ({ config, orm } = api);
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  // An operator reads every user's resources; test/integration/auth.test.ts checks who else may.
  const res = await fetch(new URL(path, api.url), { headers: { ...authHeader(await operatorToken()), ...headers } });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Expects a 404 `NotFound` problem for `path`, with no extension members. */
async function expectNotFound(path: string): Promise<void> {
  const res = await get(path);
  expectProblem(res, 404, 'NotFound', path);
  expect(problemExtensions(res.body)).toEqual({});
}

describe('GET /products', () => {
  it('shows one product with its price in won and its stock', async () => {
    const id = await createProduct(orm, 7, 4_500);
    const res = await get(`/products/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, sku: expect.stringMatching(/^test-/), name: 'Test product', priceWon: 4_500, stock: 7 });
  });

  it('answers 404 NotFound for a product that does not exist', async () => {
    await expectNotFound(`/products/${ABSENT_ID}`);
  });
});

describe('GET /users/:id/points', () => {
  it('shows the balance in points and links to the ledger', async () => {
    const userId = await createUser(orm, 1_234);

    const res = await get(`/users/${userId}/points`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId, balancePoints: 1_234, links: { ledger: `/users/${userId}/points/ledger` } });
  });

  it('answers 404 NotFound for a user without a point account', async () => {
    await expectNotFound(`/users/${ABSENT_ID}/points`);
  });
});

describe('GET /orders/:id', () => {
  it('shows an order from its rows, lines by product id, saga null when it has no workflow', async () => {
    const userId = await createUser(orm, 0);
    const [p1, p2] = [await createProduct(orm, 5, 1_000), await createProduct(orm, 5, 2_500)];
    const orderId = randomUUID();
    const em = orm.em.fork();
    const createdAt = new Date(Date.UTC(2026, 10, 21, 8, 30, 15, 123));
    const order = em.create(Order, {
      id: orderId,
      user: userId,
      status: 'CANCELLED',
      totalWon: 6_000,
      cancellationReason: 'OutOfStock',
      cancellationMessage: 'not enough stock',
      workflowId: orderWorkflowId(orderId),
      requestHash: '0'.repeat(64),
      createdAt,
      updatedAt: new Date(),
    });
    em.create(OrderLine, { order, product: p2, quantity: 2, unitPriceWon: 2_500 });
    em.create(OrderLine, { order, product: p1, quantity: 1, unitPriceWon: 1_000 });
    await em.flush();

    const res = await get(`/orders/${orderId.toUpperCase()}`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      orderId,
      userId,
      status: 'CANCELLED',
      totalWon: 6_000,
      subtotalWon: 6_000,
      discountWon: 0,
      couponId: null,
      reason: 'OutOfStock',
      message: 'not enough stock',
      lines: [
        { productId: p1, quantity: 1, unitPriceWon: 1_000, lineTotalWon: 1_000 },
        { productId: p2, quantity: 2, unitPriceWon: 2_500, lineTotalWon: 5_000 },
      ],
      createdAt: '2026-11-21T08:30:15.123Z',
      confirmedAt: null,
      payment: null,
      event: null,
      saga: null,
    });
  });

  it('shows a PENDING order when the saga exists but has not written its row', async () => {
    const orderId = randomUUID();
    // A task queue no worker polls: the saga exists in Temporal and never progresses.
    const handle = await api.env.client.workflow.start('orderCheckout', {
      workflowId: orderWorkflowId(orderId),
      taskQueue: uniqueTaskQueue('no-worker'),
      args: [],
    });
    try {
      const res = await get(`/orders/${orderId}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ orderId, status: 'PENDING', lines: [], saga: null });
    } finally {
      await handle.terminate('test done');
    }
  });

  it('answers 404 NotFound when neither an order row nor its saga exists', async () => {
    await expectNotFound(`/orders/${randomUUID()}`);
  });
});

describe('request ids', () => {
  it('echoes a given X-Request-Id, on success and on error answers', async () => {
    const ok = await get('/products?limit=1', { 'X-Request-Id': 'trace-42.a:b' });
    expect(ok.headers.get('x-request-id')).toBe('trace-42.a:b');
    const missing = await get(`/products/${ABSENT_ID}`, { 'X-Request-Id': 'trace-43' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toBe('trace-43');
    expect(missing.body.requestId).toBe('trace-43');
  });

  it('sanitizes and truncates an incoming id, and generates one when none is usable', async () => {
    const dirty = await get('/products?limit=1', { 'X-Request-Id': 'abc <script>"x"' });
    expect(dirty.headers.get('x-request-id')).toBe('abcscriptx');
    const long = await get('/products?limit=1', { 'X-Request-Id': 'r'.repeat(150) });
    expect(long.headers.get('x-request-id')).toBe('r'.repeat(100));
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect((await get('/products?limit=1')).headers.get('x-request-id')).toMatch(uuid);
    expect((await get('/products?limit=1', { 'X-Request-Id': '<>' })).headers.get('x-request-id')).toMatch(uuid);
  });
});

describe('GET /healthz', () => {
  it('is ok when PostgreSQL and Temporal answer', async () => {
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('is 503 naming Temporal when Temporal does not answer', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const down = await startApiServer({ orm, client, config, logger }, { host: '127.0.0.1', port: 0 });
    const downContract = recordContract(down);
    try {
      const res = await fetch(new URL('/healthz', down.url));
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', temporal: 'unavailable' } });
    } finally {
      await down.close();
      await connection.close();
    }
    expectNoContractViolations(downContract);
  });
});

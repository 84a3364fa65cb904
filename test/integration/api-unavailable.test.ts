/**
 * Answers that tell the truth when a service we depend on is away (issue 12, finding 7):
 * an unreachable Temporal or PostgreSQL is the service's failure, answered 503 with a
 * `Retry-After`, never a 4xx and never a bare 500; and the answers stay within the
 * OpenAPI document.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { pino } from 'pino';
import { Client, Connection } from '@temporalio/client';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import { openOrm, type Orm } from '../../db/orm.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createProduct, createUser, testConfig } from '../helpers/db.ts';
import { authHeader, tokenFor } from '../helpers/auth.ts';
import { expectProblem } from '../helpers/http.ts';
import { expectNoContractViolations, recordContract, type ContractRecorder } from '../helpers/openapi-check.ts';
import { startPgFaultProxy, type PgFaultProxy } from '../helpers/tcp-proxy.ts';

/** Sends `body` as JSON, with a token of the body's `userId` when it has one. */
async function send(base: string, method: string, path: string, body?: { userId?: number; [key: string]: unknown }) {
  const auth = body?.userId === undefined ? {} : authHeader(await tokenFor(body.userId));
  const res = await fetch(new URL(path, base), {
    method,
    headers: body === undefined ? auth : { 'content-type': 'application/json', ...auth },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe('Temporal unreachable', () => {
  let api: TestApi;

  beforeAll(async () => {
    // The default test API's client points at an address where nothing listens.
    api = await startTestApi();
  });

  afterAll(async () => {
    await api?.close();
    expectNoContractViolations(api?.contract);
  });

  it('answers POST /orders 503 TemporalUnavailable with Retry-After', async () => {
    const productId = await createProduct(api.orm, 5, 1_000);
    const userId = await createUser(api.orm, 10_000);

    const res = await send(api.url, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] });

    expectProblem(res, 503, 'TemporalUnavailable', '/orders');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('PostgreSQL unreachable', () => {
  let proxy: PgFaultProxy;
  let orm: Orm;
  let server: RunningApiServer;
  let contract: ContractRecorder;
  let connection: Connection;

  beforeAll(async () => {
    const config = testConfig();
    const target = new URL(config.database.url);
    proxy = await startPgFaultProxy({ target: { host: target.hostname, port: Number(target.port || 5432) } });
    orm = await openOrm({ url: proxy.urlFor(config.database.url), poolMax: 2 });
    // The routes used here never reach Temporal: a client on a lazy connection to nowhere.
    connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    server = await startApiServer({ orm, client, config, logger: pino({ level: 'silent' }) }, { host: '127.0.0.1', port: 0 });
    contract = recordContract(server);
  });

  afterAll(async () => {
    await server?.close();
    await orm?.close();
    await connection?.close();
    await proxy?.close();
    expectNoContractViolations(contract);
  });

  it('answers reads 503 DatabaseUnavailable with Retry-After, and 200 again once it is back', async () => {
    const ok = await send(server.url, 'GET', '/products?limit=1');
    expect(ok.status).toBe(200);

    proxy.refuse({ reset: true });
    proxy.cutAll({ reset: true });
    const down = await send(server.url, 'GET', '/products?limit=1');
    expectProblem(down, 503, 'DatabaseUnavailable', '/products');
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);

    proxy.resume();
    expect((await send(server.url, 'GET', '/products?limit=1')).status).toBe(200);
  });
});

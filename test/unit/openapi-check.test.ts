/**
 * The contract checker of test/helpers/openapi-check.ts, on a plain Node server that
 * answers what each test tells it to: it passes answers that keep the OpenAPI document
 * and reports each way an answer can break it.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordContract } from '../helpers/openapi-check.ts';

/** What the server answers next: status, headers and body text. */
let answer: { status: number; headers: Record<string, string>; body: string } = { status: 200, headers: {}, body: '' };
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    // Headers set one by one, as Koa does (the recorder reads them with getHeader).
    res.statusCode = answer.status;
    for (const [name, value] of Object.entries({ 'X-Request-Id': 'r1', ...answer.headers })) res.setHeader(name, value);
    res.end(answer.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
});

/** The violations of one answer `next` to `method path`. */
async function violationsOf(method: string, path: string, next: typeof answer): Promise<readonly string[]> {
  answer = next;
  const recorder = recordContract(server);
  try {
    const res = await fetch(new URL(path, url), { method });
    await res.arrayBuffer();
    // The recorder checks on 'finish', which may come after the client has the body.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return recorder.violations;
  } finally {
    recorder.stop();
  }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) => ({
  status,
  headers: { 'Content-Type': 'application/problem+json' },
  body: JSON.stringify({ type: `/problems/${code}`, title: code, status, detail: 'd', instance: '/x', code, requestId: 'r1', ...extra }),
});
const product = { id: 1, sku: 's', name: 'n', priceWon: 10, stock: 0 };

describe('recordContract', () => {
  it('passes answers that keep the contract', async () => {
    expect(await violationsOf('GET', '/products/1', json(200, product))).toEqual([]);
    expect(await violationsOf('GET', '/products?limit=1', json(200, { items: [product], next: null }))).toEqual([]);
    expect(await violationsOf('GET', '/PRODUCTS/1/', json(200, product))).toEqual([]);
    expect(await violationsOf('GET', '/products/1', problem(404, 'NotFound'))).toEqual([]);
    expect(await violationsOf('GET', '/nowhere', problem(404, 'NotFound'))).toEqual([]);
    expect(await violationsOf('HEAD', '/products/1', json(200, product))).toEqual([]);
  });

  it('reports a body that does not match its schema', async () => {
    const found = await violationsOf('GET', '/products/1', json(200, { ...product, priceWon: -1, extra: true }));
    expect(found).toEqual([expect.stringMatching(/GET \/products\/\{id\} 200 application\/json: .*priceWon.*|.*additional/)]);
  });

  it('reports an undocumented status, media type, problem code or missing header', async () => {
    expect(await violationsOf('GET', '/products/1', problem(409, 'OutOfStock'))).toEqual([expect.stringContaining('status 409 is not documented')]);
    expect(await violationsOf('GET', '/products/1', { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'x' })).toEqual([
      expect.stringContaining('media type text/plain'),
    ]);
    expect(await violationsOf('GET', '/products/1', problem(404, 'OutOfStock'))).toEqual([expect.stringContaining('problem code OutOfStock')]);
    expect(await violationsOf('POST', '/orders', json(201, {}, {}))).toEqual(
      expect.arrayContaining([expect.stringContaining('header Location missing')]),
    );
  });

  it('reports an answer to no operation that is not a problem', async () => {
    expect(await violationsOf('GET', '/nowhere', json(404, { error: 'x' }))).toEqual([expect.stringContaining('not a problem')]);
  });
});

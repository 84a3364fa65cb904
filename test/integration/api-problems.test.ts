/**
 * Problem details on every error path: `GET /problems/:code` documents each type URI;
 * router, body, validation, Node parser (raw socket), no-Host and internal errors all
 * answer `application/problem+json` with the contract's members. The API runs on the test
 * database with a Temporal client that refuses every call (none of these reach Temporal).
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createApp } from '../../api/app.ts';
import { ApiError } from '../../api/errors.ts';
import { problemDetailsSchema } from '../../api/problem.ts';
import { problemTypes } from '../../api/problem-types.ts';
import { problemTypeDocument } from '../../api/problems/views.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { operatorToken } from '../helpers/auth.ts';
import { expectProblem, expectRefusedBy, problemExtensions, sendCall, withToken, type Answer } from '../helpers/http.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';

let api: TestApi;
const temporalCalls: string[] = [];

beforeAll(async () => {
  api = await startTestApi({ refusedCalls: temporalCalls });
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

/** Sends with an operator token: it passes every guard, and the requests here are refused before anything starts. */
const send = async (path: string, init: { method?: string; headers?: Record<string, string>; raw?: string } = {}) =>
  sendCall(api.url, withToken(await operatorToken(), { path, method: init.method, headers: init.headers, raw: init.raw }));

describe('GET /problems/:code', () => {
  it('documents every problem type at its type URI', async () => {
    for (const code of Object.keys(problemTypes)) {
      const res = await send(`/problems/${code}`);
      expect({ code, status: res.status }).toEqual({ code, status: 200 });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual(problemTypeDocument(code));
      expect(res.body.type).toBe(`/problems/${code}`);
    }
  });

  it('is a 404 problem for an unknown code, without echoing arbitrary text', async () => {
    const unknown = await expectRefusedBy(api.url, { path: '/problems/NoSuchCode' }, 404, 'NotFound');
    expect(unknown.detail).toContain('NoSuchCode');
    const hostile = await expectRefusedBy(api.url, { path: '/problems/%3Cscript%3E' }, 404, 'NotFound');
    expect(hostile.detail).not.toMatch(/script/i);
    await expectRefusedBy(api.url, { path: '/problems/__proto__' }, 404, 'NotFound');
  });

  it('dereferences the type of answered problems', async () => {
    const answers = [
      await send('/nothing-here'),
      await send('/orders', { method: 'PUT' }),
      await send('/orders', { raw: '{}' }),
      await send('/orders', { raw: '{' }),
    ];
    for (const answer of answers) {
      const doc = await send(answer.body.type);
      expect(doc.status).toBe(200);
      expect(doc.body).toMatchObject({ code: answer.body.code, title: answer.body.title });
      expect(doc.body.statuses).toContain(answer.status);
    }
  });
});

describe('problem answers of the Koa app', () => {
  it('lists field errors in the errors member, with dotted paths and no other extension', async () => {
    const res = await sendCall(api.url, withToken(await operatorToken(), { path: '/orders?x=1', json: { userId: 1, items: [{ productId: 1, quantity: 0 }], extra: 1 } }));
    expectProblem(res, 400, 'ValidationFailed', '/orders');
    expect(Object.keys(problemExtensions(res.body))).toEqual(['errors']);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'items.0.quantity', message: expect.any(String) },
        { path: 'extra', message: 'unknown field' },
      ]),
    );
    expect(problemDetailsSchema.parse(res.body)).toEqual(res.body);
  });

  it('answers 405 with Allow and 501 for an unknown method as problems', async () => {
    const wrong = await send('/products', { method: 'DELETE' });
    expectProblem(wrong, 405, 'MethodNotAllowed', '/products');
    expect(wrong.headers.get('allow')).toContain('GET');
    expectProblem(await send('/products', { method: 'PROPFIND' }), 501, 'NotImplemented', '/products');
  });

  it('answers 413 and 415 from body parsing as problems', async () => {
    const big = 'x'.repeat(api.config.api.bodyLimitBytes + 1);
    expectProblem(await send('/orders', { raw: JSON.stringify({ big }) }), 413, 'PayloadTooLarge', '/orders');
    expectProblem(await sendCall(api.url, withToken(await operatorToken(), { path: '/orders', raw: 'a=1', contentType: 'text/plain' })), 415, 'UnsupportedMediaType', '/orders');
  });
});

describe('internal errors', () => {
  let failing: Server;
  let url: string;

  beforeAll(async () => {
    const app = createApp(api.deps);
    // Reached only by paths no route matches (the router passes them on).
    app.use((ctx) => {
      if (ctx.path === '/boom') throw new Error('password=hunter2 at db.internal:5432');
      if (ctx.path === '/clash') throw new ApiError(409, 'Clash', 'never sent', { details: { status: 200 } as Record<string, unknown> });
    });
    failing = createServer(app.callback()).listen(0, '127.0.0.1');
    await once(failing, 'listening');
    url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    failing.closeAllConnections();
    await new Promise((resolve) => failing.close(resolve));
  });

  it('are a 500 InternalError problem that tells nothing of the cause', async () => {
    const res = await sendCall(url, { path: '/boom', headers: { 'X-Request-Id': 'trace-500' } });
    expectProblem(res, 500, 'InternalError', '/boom');
    expect(res.body.requestId).toBe('trace-500');
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|db\.internal/);
    expect(problemExtensions(res.body)).toEqual({});
  });

  it('include an error whose extension member would overwrite a standard member', async () => {
    const res = await sendCall(url, { path: '/clash' });
    expectProblem(res, 500, 'InternalError', '/clash');
  });
});

/** Sends `bytes` on a new connection and parses the one answer read until the server closes. */
async function sendRaw(bytes: string): Promise<Answer> {
  const socket = net.connect(Number(new URL(api.url).port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'connect');
  socket.write(bytes, 'latin1');
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('utf8');
  const headEnd = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
  const headers = new Headers(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
  const body = text.slice(headEnd + 4);
  return { status: Number(statusLine?.split(' ')[1]), headers, body: body ? JSON.parse(body) : undefined };
}

describe('errors of the HTTP layer', () => {
  it('a malformed request line: 400 BadRequest without instance', async () => {
    const res = await sendRaw('GARBAGE\r\n\r\n');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: '/problems/BadRequest',
      title: 'Bad request',
      status: 400,
      detail: expect.any(String),
      code: 'BadRequest',
      requestId: res.headers.get('x-request-id'),
    });
    expect(problemDetailsSchema.parse(res.body)).toEqual(res.body);
  });

  it('headers over the limit: 431 HeadersTooLarge', async () => {
    const res = await sendRaw(`GET /products HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20 * 1024)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: '/problems/HeadersTooLarge', status: 431, code: 'HeadersTooLarge', requestId: res.headers.get('x-request-id') });
    expect(res.body.instance).toBeUndefined();
  });

  it('an Expect other than 100-continue: 417 ExpectationFailed with the path', async () => {
    const res = await sendRaw('GET /products?limit=1 HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nConnection: close\r\n\r\n');
    expectProblem(res, 417, 'ExpectationFailed', '/products');
  });

  it('no Host on HTTP/1.1: 400 BadRequest from the app, with the path and the request id', async () => {
    const res = await sendRaw('GET /products HTTP/1.1\r\nX-Request-Id: no-host-1\r\nConnection: close\r\n\r\n');
    expectProblem(res, 400, 'BadRequest', '/products');
    expect(res.body.requestId).toBe('no-host-1');
  });

  it('made no Temporal call', () => {
    expect(temporalCalls).toEqual([]);
  });
});

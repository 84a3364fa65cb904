/**
 * HTTP helpers for the API validation suites: one request as data ({@link Call}), sending
 * it to a running API server, the problem-details assertions, and a Temporal client
 * interceptor that records and refuses every workflow call.
 */
import { expect } from '@jest/globals';
import type { WorkflowClientInterceptor } from '@temporalio/client';

/** A request: `json` is serialized; `raw` is sent as is with `contentType`. */
export interface Call {
  method?: string;
  path: string;
  json?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** `call` with `Authorization: Bearer <token>`, unless it has an Authorization header of its own. */
export function withToken(token: string, call: Call): Call {
  const own = Object.keys(call.headers ?? {}).some((name) => name.toLowerCase() === 'authorization');
  return own ? call : { ...call, headers: { authorization: `Bearer ${token}`, ...call.headers } };
}

/** An answer: status, headers and the parsed JSON body (undefined when empty). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** Sends `call` to the server at `baseUrl`; without a method, POST when it has a body, else GET. */
export async function sendCall(baseUrl: string, call: Call): Promise<Answer> {
  const headers: Record<string, string> = { ...call.headers };
  let body: string | undefined;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    headers['content-type'] = call.contentType ?? 'application/json';
  } else if (call.raw !== undefined) {
    body = call.raw;
    headers['content-type'] = call.contentType ?? 'application/json';
  }
  const res = await fetch(new URL(call.path, baseUrl), { method: call.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** The members every problem answer has; the rest are the code's extension members. */
const STANDARD_MEMBERS = ['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type'];

/** The extension members of a problem body (everything but the standard members). */
export function problemExtensions(problem: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(problem).filter(([key]) => !STANDARD_MEMBERS.includes(key)));
}

/**
 * Expects `res` to be an RFC 9457 problem answer with `status` and `code`, for the request
 * path `instance`: `application/problem+json`, every standard member, `type`
 * `/problems/<code>`, `requestId` the `X-Request-Id` header.
 */
export function expectProblem(res: Answer, status: number, code: string, instance: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json(;|$)/);
  expect(Object.keys(res.body)).toEqual(expect.arrayContaining(STANDARD_MEMBERS));
  const requestId = res.headers.get('x-request-id');
  expect(requestId).toEqual(expect.any(String));
  expect(res.body).toMatchObject({
    type: `/problems/${code}`,
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance,
    code,
    requestId,
  });
}

/**
 * Sends `call` and expects a problem answer with `status` and `code` (see
 * {@link expectProblem}); with `path`, a field error at that path in its `errors` member.
 * Returns the problem body.
 */
export async function expectRefusedBy(baseUrl: string, call: Call, status: number, code: string, path?: string): Promise<any> {
  const res = await sendCall(baseUrl, call);
  // fetch sends the normalized path of the URL, and the API reports it without its query.
  expectProblem(res, status, code, new URL(call.path, baseUrl).pathname);
  if (path !== undefined) {
    const paths = res.body.errors.map((i: { path: string }) => i.path);
    expect(paths).toContain(path);
  }
  return res.body;
}

/** Every workflow-client call is pushed onto `calls` and refused: validation must not reach Temporal. */
export function refusingInterceptor(calls: string[]): WorkflowClientInterceptor {
  const refuse = (name: string) => async (): Promise<never> => {
    calls.push(name);
    throw new Error(`unexpected Temporal call: ${name}`);
  };
  return {
    start: refuse('start'),
    startWithDetails: refuse('startWithDetails'),
    startUpdate: refuse('startUpdate'),
    startUpdateWithStart: refuse('startUpdateWithStart'),
    signal: refuse('signal'),
    signalWithStart: refuse('signalWithStart'),
    query: refuse('query'),
    terminate: refuse('terminate'),
    cancel: refuse('cancel'),
    describe: refuse('describe'),
  };
}

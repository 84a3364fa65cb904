/**
 * HTTP helpers for the API validation suites: one request as data ({@link Call}), sending
 * it to a running API server, the error-shape assertion, and a Temporal client
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

/**
 * Sends `call` and expects the error shape with `status` and `code`; with `path`, an
 * issue at that path. Returns the `error` object.
 */
export async function expectRefusedBy(baseUrl: string, call: Call, status: number, code: string, path?: string): Promise<any> {
  const res = await sendCall(baseUrl, call);
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(res.body).sort()).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
  if (path !== undefined) {
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain(path);
  }
  return res.body.error;
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

/**
 * Sending hostile requests and judging the answers. A well-formed request goes through
 * `node:http` (so the path is sent as generated: no URL normalization of `.`/`..` or of
 * percent-encodings, duplicate headers kept in order); a request whose bytes break
 * HTTP/1.1 goes verbatim over `node:net`. Both have a deadline: no answer in time is a hang.
 */
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { describeExpected, type Expected } from './expected.ts';

/** One generated request, and why the API must refuse it. */
export interface HostileRequest {
  /** The endpoint it was generated for, e.g. `POST /orders`. */
  endpoint: string;
  method: string;
  /** Request-target as sent: path and query, already percent-encoded (or not) as generated. */
  target: string;
  /** Headers in order, duplicates allowed; values are byte strings (one char per byte, latin1). */
  headers: [string, string][];
  body?: Buffer;
  /** Sends the body with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked?: boolean;
  /** When set, these bytes are sent verbatim instead (HTTP/1.1 protocol corruption). */
  raw?: Buffer;
  /** What makes it invalid, by construction; empty only for a request `expect`ed to be accepted. */
  defects: string[];
  /** The exact answer, when the family knows it (see expected.ts). */
  expect?: Expected | undefined;
}

/** What came back. `status` 0 means no parsable answer (connection closed first). */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const SHOWN = 160;

function clip(text: string, max = SHOWN): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

/** Readable one-request summary: long values clipped, control and non-ASCII bytes escaped. */
export function describeRequest(req: HostileRequest): string {
  const esc = (s: string) => JSON.stringify(s).slice(1, -1);
  if (req.raw) {
    return `[${req.endpoint}] RAW ${clip(esc(req.raw.toString('latin1')), 400)} defects=${JSON.stringify(req.defects)}`;
  }
  const headers = req.headers.map(([k, v]) => `${k}: ${clip(esc(v), 80)}`).join(' | ');
  const body = req.body === undefined ? '(none)' : clip(esc(req.body.toString('latin1')), 200);
  const expected = req.expect ? ` expect=${describeExpected(req.expect)}` : '';
  return `[${req.endpoint}] ${req.method} ${clip(req.target, 200)} {${headers}} body${req.chunked ? '(chunked)' : ''}=${body} defects=${JSON.stringify(req.defects)}${expected}`;
}

/** Builds a request whose fast-check counterexample prints as {@link describeRequest}. */
export function hostile(req: HostileRequest): HostileRequest {
  return Object.assign(req, { [fc.toStringMethod]: () => describeRequest(req) });
}

/** Sends a well-formed request with node:http; rejects after `timeoutMs` without an answer. */
export function send(port: number, req: HostileRequest, timeoutMs: number): Promise<Answer> {
  if (req.raw) return sendRaw(port, req.raw, timeoutMs);
  return new Promise<Answer>((resolve, reject) => {
    const headers: string[] = [];
    for (const [name, value] of req.headers) headers.push(name, value);
    if (req.body !== undefined) {
      if (req.chunked) headers.push('Transfer-Encoding', 'chunked');
      else headers.push('Content-Length', String(req.body.length));
    } else if (!['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'].includes(req.method)) {
      // Without it node:http would send an empty chunked body: "no body" is no body.
      headers.push('Content-Length', '0');
    }
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      outgoing.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms (hang)`));
    }, timeoutMs);
    const outgoing = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.target, headers, setHost: false, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const flat: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) flat[name] = Array.isArray(value) ? value.join(', ') : (value ?? '');
          resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks) });
        });
      },
    );
    outgoing.on('error', (err) => {
      // The server may answer (413, 400) before it read a large body, then close: the
      // answer, when it came, is what counts.
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`request failed before an answer: ${err.message}`));
    });
    if (req.body !== undefined && req.chunked) {
      // Several chunks, so the server sees a streamed body of unknown length.
      const step = Math.max(1, Math.ceil(req.body.length / 4));
      for (let at = 0; at < req.body.length; at += step) outgoing.write(req.body.subarray(at, at + step));
      outgoing.end();
    } else {
      outgoing.end(req.body);
    }
  });
}

/**
 * Sends `bytes` over a plain TCP connection and parses one HTTP/1.1 answer (skipping 1xx):
 * by Content-Length, chunked, or up to the close. Rejects after `timeoutMs`.
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: Answer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms (hang); got ${JSON.stringify(received.toString('latin1').slice(0, 200))}`)), timeoutMs);
    const tryParse = (closed: boolean) => {
      const parsed = parseAnswer(received, closed);
      if (parsed) finish(parsed);
      else if (closed) finish({ status: 0, headers: {}, body: received });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('close', () => tryParse(true));
    // The server may close while we still write (it refused the request early).
    socket.on('error', () => tryParse(true));
    socket.write(bytes);
  });
}

/** One complete answer from the start of `data`, or undefined when more bytes are needed. */
function parseAnswer(data: Buffer, closed: boolean): Answer | undefined {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start);
    if (headEnd < 0) return undefined;
    const lines = data.subarray(start, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200) {
      start = bodyStart;
      continue;
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (data.length - bodyStart < length) return closed ? { status, headers, body: data.subarray(bodyStart) } : undefined;
      return { status, headers, body: data.subarray(bodyStart, bodyStart + length) };
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const body = dechunk(data.subarray(bodyStart));
      if (body) return { status, headers, body };
      return closed ? { status, headers, body: data.subarray(bodyStart) } : undefined;
    }
    return closed ? { status, headers, body: data.subarray(bodyStart) } : undefined;
  }
}

function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The members every problem answer has but `instance`, which a parser error may lack. */
const PROBLEM_MEMBERS = ['type', 'title', 'status', 'detail', 'code', 'requestId'];

/** Statuses of the answers to requests Node's parser refused (api/protocol-errors.ts). */
const PARSER_STATUSES = [400, 408, 413, 431];

/**
 * The `instance` the API reports for a request sent with target `target`: the path
 * before the query, as Koa reads it (its fast path: a target starting with `/` and free of
 * whitespace and `#`); undefined when it would be parsed otherwise (then only its form is checked).
 */
function expectedInstance(target: string): string | undefined {
  if (!target.startsWith('/') || /[\t\n\f\r #\u00a0\ufeff]/.test(target)) return undefined;
  return target.split('?')[0];
}

/**
 * Why `answer` is not a proper refusal; empty when it is. A proper refusal: a 4xx (or 501
 * when `unknownMethod`: the API implements no route for that method at all) with an RFC
 * 9457 problem body, `Content-Type: application/problem+json`, and an `X-Request-Id`.
 * The body has `type` `/problems/<code>`, a string `title` and `detail`, `status` equal to
 * the answer's status, a non-empty `code`, `requestId` equal to the `X-Request-Id` header,
 * `instance` the request path (`target`'s, when known; absent only in a parser refusal),
 * and validation `errors` as `[{ path, message }]`.
 */
export function refusalProblems(answer: Answer, options: { unknownMethod: boolean; target?: string | undefined }): string[] {
  const problems: string[] = [];
  const okStatus = (answer.status >= 400 && answer.status < 500) || (options.unknownMethod && answer.status === 501);
  if (!okStatus) problems.push(`status ${answer.status} is not a 4xx`);
  if (!/^application\/problem\+json\s*(;|$)/i.test(answer.headers['content-type'] ?? '')) {
    problems.push(`content-type ${JSON.stringify(answer.headers['content-type'] ?? null)} is not application/problem+json`);
  }
  const requestId = answer.headers['x-request-id'];
  if (!requestId) problems.push('no X-Request-Id');
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    problems.push(`body is not JSON: ${JSON.stringify(clip(answer.body.toString('latin1'), 200))}`);
    return problems;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(body)) {
    problems.push(`body is not a JSON object: ${clip(JSON.stringify(body), 200)}`);
    return problems;
  }
  const missing = PROBLEM_MEMBERS.filter((member) => !Object.hasOwn(body, member));
  if (missing.length > 0) problems.push(`problem members missing: ${missing.join(',')}`);
  const { type, title, status, detail, instance, code, requestId: bodyRequestId, errors } = body;
  if (typeof code !== 'string' || code.length === 0) problems.push('code is not a non-empty string');
  else if (type !== `/problems/${code}`) problems.push(`type ${JSON.stringify(type)} is not /problems/${code}`);
  if (typeof title !== 'string' || title.length === 0) problems.push('title is not a non-empty string');
  if (typeof detail !== 'string') problems.push('detail is not a string');
  if (status !== answer.status) problems.push(`status member ${JSON.stringify(status)} is not the answer's ${answer.status}`);
  if (bodyRequestId !== requestId) problems.push(`requestId ${JSON.stringify(bodyRequestId)} is not the X-Request-Id ${JSON.stringify(requestId)}`);
  // Node's parser refuses some requests before any path is read (a target past the header
  // limit, say): those answers, and only those, have no instance.
  const expected = options.target === undefined ? undefined : expectedInstance(options.target);
  if (instance === undefined) {
    if (!PARSER_STATUSES.includes(answer.status)) problems.push(`no instance in a ${answer.status} answer`);
  } else if (typeof instance !== 'string') {
    problems.push(`instance ${JSON.stringify(instance)} is not a string`);
  } else if (expected !== undefined && instance !== expected) {
    problems.push(`instance ${JSON.stringify(clip(instance))} is not ${JSON.stringify(clip(expected))}`);
  }
  if (code === 'ValidationFailed') {
    const items = Array.isArray(errors) ? errors : [];
    if (items.length === 0) problems.push('ValidationFailed without errors');
    if (items.some((item) => !isObject(item) || typeof item.path !== 'string' || typeof item.message !== 'string')) {
      problems.push(`errors are not [{path, message}]: ${clip(JSON.stringify(errors), 200)}`);
    }
  }
  return problems;
}

/** A one-line account of an answer, for failure messages. */
export function describeAnswer(answer: Answer): string {
  return `${answer.status} ${answer.headers['content-type'] ?? '(no content-type)'} ${clip(answer.body.toString('latin1'), 300)}`;
}

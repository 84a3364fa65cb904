/**
 * The protocol family: the valid request's bytes with one HTTP/1.1 corruption (NUL, CR or
 * bare LF in headers, obs-fold, bad or conflicting Content-Length / Transfer-Encoding,
 * bad chunk, no Host, unknown Expect, raw 8-bit bytes in the target, an HTTP/2 preface).
 */
import fc from 'fast-check';
import type { Parts } from './families.ts';
import { hostile, type HostileRequest } from './http.ts';

/** Raw HTTP/1.1 bytes of `parts` with a Host and `Connection: close`. */
function serialize(parts: Parts, host: string): { head: string; body: Buffer } {
  const lines = [`${parts.method} ${parts.target} HTTP/1.1`, `Host: ${host}`, ...parts.headers.map(([k, v]) => `${k}: ${v}`), 'Connection: close'];
  if (parts.body !== undefined) lines.push(`Content-Length: ${parts.body.length}`);
  return { head: `${lines.join('\r\n')}\r\n\r\n`, body: parts.body ?? Buffer.alloc(0) };
}

/** One HTTP/1.1 corruption applied to a valid request's bytes. */
interface Corruption {
  name: string;
  apply(head: string, body: Buffer, parts: Parts): Buffer;
}

const bytes = (head: string, body: Buffer = Buffer.alloc(0)) => Buffer.concat([Buffer.from(head, 'latin1'), body]);
const addHeader = (head: string, line: string) => head.replace('\r\n', `\r\n${line}\r\n`);
const withoutLength = (head: string) => head.replace(/Content-Length: \d+\r\n/, '');

const CORRUPTIONS: Corruption[] = [
  { name: 'NUL in a header value', apply: (h, b) => bytes(addHeader(h, 'X-Request-Id: a\u0000b'), b) },
  { name: 'CR alone in a header value', apply: (h, b) => bytes(addHeader(h, 'X-Hostile: a\rb'), b) },
  { name: 'NUL in a header name', apply: (h, b) => bytes(addHeader(h, 'X-Hos\u0000tile: a'), b) },
  { name: '8-bit byte in a header name', apply: (h, b) => bytes(addHeader(h, 'X-Hos\u00fftile: a'), b) },
  { name: 'space before the colon', apply: (h, b) => bytes(addHeader(h, 'X-Hostile : a'), b) },
  { name: 'header line without a colon', apply: (h, b) => bytes(addHeader(h, 'Garbage'), b) },
  { name: 'obs-fold continuation line', apply: (h, b) => bytes(addHeader(h, 'X-Hostile: a\r\n b'), b) },
  { name: 'bare LF line endings', apply: (h, b) => bytes(h.replace(/\r\n/g, '\n'), b) },
  { name: 'HTTP/9.9', apply: (h, b) => bytes(h.replace(' HTTP/1.1\r\n', ' HTTP/9.9\r\n'), b) },
  { name: 'no HTTP version', apply: (h, b) => bytes(h.replace(' HTTP/1.1\r\n', ' HTTX/1.1\r\n'), b) },
  { name: 'space inside the target', apply: (h, b, p) => bytes(h.replace(` ${p.target} `, ` ${p.target}%20x y `), b) },
  { name: 'raw 8-bit bytes in the target', apply: (h, b, p) => bytes(h.replace(` ${p.target} `, ` ${p.target}\u00ff\u00fe `), b) },
  { name: 'control byte in the target', apply: (h, b, p) => bytes(h.replace(` ${p.target} `, ` ${p.target}\u0001 `), b) },
  { name: 'Content-Length not a number', apply: (h, b) => bytes(addHeader(withoutLength(h), 'Content-Length: 1x'), b) },
  { name: 'negative Content-Length', apply: (h, b) => bytes(addHeader(withoutLength(h), 'Content-Length: -1'), b) },
  { name: 'Content-Length past 2^64', apply: (h, b) => bytes(addHeader(withoutLength(h), 'Content-Length: 99999999999999999999999'), b) },
  { name: 'two different Content-Lengths', apply: (h, b) => bytes(addHeader(addHeader(withoutLength(h), `Content-Length: ${b.length}`), `Content-Length: ${b.length + 1}`), b) },
  {
    name: 'Transfer-Encoding and Content-Length',
    apply: (h, b) => bytes(addHeader(addHeader(withoutLength(h), `Content-Length: ${b.length}`), 'Transfer-Encoding: chunked'), Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')])),
  },
  { name: 'Transfer-Encoding gzip (not chunked)', apply: (h, b) => bytes(addHeader(withoutLength(h), 'Transfer-Encoding: gzip'), b) },
  { name: 'bad chunk size', apply: (h, b) => bytes(addHeader(withoutLength(h), 'Transfer-Encoding: chunked'), Buffer.concat([Buffer.from('zz\r\n'), b, Buffer.from('\r\n0\r\n\r\n')])) },
  { name: 'chunk size past 2^64', apply: (h) => bytes(addHeader(withoutLength(h), 'Transfer-Encoding: chunked'), Buffer.from('FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n')) },
  { name: 'no Host (HTTP/1.1)', apply: (h, b) => bytes(h.replace(/\r\nHost: [^\r]*/, ''), b) },
  { name: 'Expect other than 100-continue', apply: (h, b) => bytes(addHeader(h, 'Expect: 200-ok'), b) },
  { name: 'request head past 16 KiB', apply: (h, b) => bytes(addHeader(h, `X-Hostile-Padding: ${'p'.repeat(20 * 1024)}`), b) },
  { name: 'target past 16 KiB', apply: (h, b, p) => bytes(h.replace(` ${p.target} `, ` ${p.target}${'9'.repeat(20 * 1024)} `), b) },
  { name: 'HTTP/2 preface', apply: () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1') },
];

/** The protocol family of `endpoint`: one of {@link CORRUPTIONS} applied to a valid request for the server at `host`. */
export function rawFamily(valid: fc.Arbitrary<Parts>, endpoint: string, host: string): fc.Arbitrary<HostileRequest> {
  return fc.tuple(valid, fc.constantFrom(...CORRUPTIONS)).map(([parts, corruption]) => {
    const { head, body } = serialize(parts, host);
    return hostile({
      endpoint,
      method: parts.method,
      target: parts.target,
      headers: [],
      raw: corruption.apply(head, body, parts),
      defects: [corruption.name],
    });
  });
}

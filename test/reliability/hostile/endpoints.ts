/**
 * Generators of invalid requests, one per endpoint. Each starts from a fully valid
 * request on the fixtures and breaks it in one way, named in `defects` (so most inputs
 * are almost valid: a real user with a bad quantity, a real reservation id with a body),
 * then adds noise that can never make a request valid: garbage and duplicated
 * `X-Request-Id`, unknown headers, an ignored query. Families:
 *
 * - body: out-of-range and huge numbers (1e308, 2^53+1, -0, 1e309), numbers as strings
 *   ("NaN", "Infinity"), wrong types, missing, extra and duplicated fields, arrays where
 *   objects belong, 10,000 levels of nesting, malformed JSON, 1 MB bodies (sized and
 *   chunked), wrong or missing Content-Type, bogus Content-Encoding, a gzip bomb;
 * - path: ids that are not ids (signs, decimals, exponents, leading zeros, 2^31, unicode
 *   digits, NUL, lone surrogates, RTL and zero-width marks, encoded slashes, dot
 *   segments), very long ids (up to 12,000 characters, and past the 16 KiB header
 *   limit), extra segments, ids that are well-formed but exist nowhere (404);
 * - headers: bad, duplicated and oversized Idempotency-Key, duplicated Content-Type,
 *   headers over 16 KiB;
 * - method: a method the route does not have (405), one the API has nowhere (501);
 * - protocol: the valid request's bytes with one HTTP/1.1 corruption (NUL, CR or bare LF
 *   in headers, obs-fold, bad or conflicting Content-Length / Transfer-Encoding, bad
 *   chunk, no Host, unknown Expect, raw 8-bit bytes in the target, an HTTP/2 preface).
 */
import querystring from 'node:querystring';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { hostile, type HostileRequest } from './http.ts';
import {
  DEPTHS,
  MAX_INT32,
  deepArray,
  deepObject,
  extraKey,
  headerBytes,
  malformedJson,
  nastyString,
  neverValidValue,
  objectText,
  pastMax,
  pct,
  wtf8,
} from './values.ts';

/** The rows the generators build almost-valid requests from. */
export interface Fixtures {
  /** Has a point account. */
  userId: number;
  /** A user row without a point account. */
  userWithoutAccount: number;
  productA: number;
  productB: number;
  performanceA: number;
  performanceB: number;
  /** Seats of performance A (some AVAILABLE, one HELD, one RESERVED). */
  seatsA: number[];
  seatsB: number[];
  /** Well-formed ids that are no row of any table. */
  absentIds: number[];
}

/** A request before noise, Host and the summary method. */
interface Parts {
  method: string;
  target: string;
  headers: [string, string][];
  body?: Buffer;
  chunked?: boolean;
  defects: string[];
}

type Family = fc.Arbitrary<Parts>;

const MB = 1024 * 1024;
/** Bytes past Node's 16 KiB request-head limit. */
const OVER_HEADER_LIMIT = { min: 20 * 1024, max: 48 * 1024 };

const STANDARD_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Methods Node parses but the API implements on no route (answered 501). */
export const UNKNOWN_METHODS = ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'PURGE', 'SEARCH', 'REPORT', 'COPY', 'MOVE', 'TRACE', 'LINK'];

const jsonTypes = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=utf-16');
const WRONG_TYPES = [
  'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml',
  'application/jsonx', 'application/json5', 'application/json-patch+json', 'application/vnd.api+json', 'application/javascript',
  '*/*', 'application/*', 'json', 'application', 'application/ json', 'application/octet-stream', 'x/\u00ff\u00fe',
];

/** Body bytes of a JSON text; lone surrogates (if any) as their invalid 3-byte form. */
function utf8(text: string): Buffer {
  return /[\ud800-\udfff]/.test(text) ? wtf8(text) : Buffer.from(text, 'utf8');
}

/** A valid JSON request's parts: `body` text with a JSON content type. */
const withJson = (method: string, target: string, text: string, contentType: string, defects: string[], extra: [string, string][] = []): Parts => ({
  method,
  target,
  headers: [['Content-Type', contentType], ...extra],
  body: utf8(text),
  defects,
});

/** Defects of the body as a whole, applied to a valid body text. */
function bodyEnvelopeFamilies(method: string, target: fc.Arbitrary<string>, validText: fc.Arbitrary<string>): Family[] {
  return [
    // The wrong media type, or none at all, for a body that is otherwise valid (415).
    fc.tuple(target, validText, fc.option(fc.constantFrom(...WRONG_TYPES), { nil: undefined })).map(([t, text, type]) => ({
      method,
      target: t,
      headers: type === undefined ? [] : ([['Content-Type', type]] as [string, string][]),
      body: utf8(text),
      defects: [type === undefined ? 'body without Content-Type' : `Content-Type ${type}`],
    })),
    // A second Content-Type after a wrong one: Node keeps the first.
    fc.tuple(target, validText, fc.constantFrom(...WRONG_TYPES)).map(([t, text, type]) => ({
      method,
      target: t,
      headers: [['Content-Type', type], ['Content-Type', 'application/json']] as [string, string][],
      body: utf8(text),
      defects: [`duplicated Content-Type, first ${type}`],
    })),
    fc.tuple(target, validText.chain((text) => malformedJson(text)), jsonTypes).map(([t, text, type]) =>
      withJson(method, t, text, type, ['malformed JSON']),
    ),
    // 1 MB bodies, sized or chunked: a valid body with a 1 MB field, padded with 1 MB of
    // whitespace, or a 1 MB array.
    fc.tuple(target, validText, jsonTypes, fc.constantFrom('field', 'leading space', 'trailing space', 'array'), fc.boolean()).map(
      ([t, text, type, shape, chunked]) => {
        const big =
          shape === 'field'
            ? `${text.slice(0, -1)},"padding":"${'x'.repeat(MB)}"}`
            : shape === 'leading space'
              ? ' '.repeat(MB) + text
              : shape === 'trailing space'
                ? text + ' '.repeat(MB)
                : `[${'1,'.repeat(MB / 2)}1]`;
        return { ...withJson(method, t, big, type, [`1 MB body (${shape})`]), chunked };
      },
    ),
    // Content-Encoding that does not match the bytes, or that the API does not know; and
    // a valid body gzipped with 2 MB of trailing spaces (a small bomb: over the limit once inflated).
    fc.tuple(target, validText, jsonTypes, fc.constantFrom('gzip', 'deflate', 'br', 'x-gzip', 'compress', 'GZIP', 'gzip, gzip', 'bogus', 'bomb')).map(
      ([t, text, type, encoding]) =>
        encoding === 'bomb'
          ? { ...withJson(method, t, '', type, ['gzip bomb: 2 MB once inflated'], [['Content-Encoding', 'gzip']]), body: zlib.gzipSync(text + ' '.repeat(2 * MB)) }
          : withJson(method, t, text, type, [`Content-Encoding ${encoding} on a plain body`], [['Content-Encoding', encoding]]),
    ),
  ];
}

/** Idempotency-Key values the API refuses (it wants 1..200 of [A-Za-z0-9_.:-], given once). */
const badIdempotencyKeys: fc.Arbitrary<{ values: string[]; defect: string }> = fc.oneof(
  fc.constantFrom('', 'my key', 'a/b', 'a,b', 'k\u00e9y', 'key\u00ff', '%41', 'a+b', 'a=b', '"quoted"', '{key}', 'a b c').map((v) => ({ values: [v], defect: `Idempotency-Key ${JSON.stringify(v)}` })),
  fc.integer({ min: 201, max: 8_000 }).map((n) => ({ values: ['k'.repeat(n)], defect: `Idempotency-Key of ${n} characters` })),
  nastyString.map((s) => headerBytes(`k${s}k`)).filter((v) => !/^[A-Za-z0-9_.:-]{1,200}$/.test(v.trim())).map((v) => ({ values: [v], defect: 'Idempotency-Key with unicode bytes' })),
  fc.array(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), { minLength: 2, maxLength: 3 }).map((values) => ({ values, defect: 'Idempotency-Key given twice' })),
);

/** A header (whatever the route) pushing the request head past 16 KiB: 431. */
const oversizedHeader: fc.Arbitrary<[string, string]> = fc.tuple(
  fc.constantFrom('X-Request-Id', 'Idempotency-Key', 'Content-Type', 'Cookie', 'X-Hostile-Padding'),
  fc.integer(OVER_HEADER_LIMIT),
).map(([name, n]) => [name, 'a'.repeat(n)]);

/** Families that refuse a valid request by its method or its headers' size. */
function requestFamilies(valid: fc.Arbitrary<Parts>, wrongMethods: readonly string[]): Family[] {
  return [
    fc.tuple(valid, fc.constantFrom(...wrongMethods)).map(([parts, method]) => ({ ...parts, method, defects: [`method ${method}`] })),
    fc.tuple(valid, fc.constantFrom(...UNKNOWN_METHODS)).map(([parts, method]) => ({ ...parts, method, defects: [`method ${method} (none of the API's)`] })),
    fc.tuple(valid, oversizedHeader).map(([parts, header]) => ({
      ...parts,
      headers: [...parts.headers, header],
      defects: [`${header[0]} of ${header[1].length} bytes`],
    })),
  ];
}

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

function rawFamily(valid: fc.Arbitrary<Parts>, endpoint: string, host: string): fc.Arbitrary<HostileRequest> {
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

/** Noise headers: never Content-*, Transfer-Encoding, Host or Expect, so they cannot repair a request. */
const noiseHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(
    fc.constant('X-Request-Id'),
    fc.oneof(
      nastyString.map(headerBytes),
      fc.integer({ min: 101, max: 3_000 }).map((n) => 'r'.repeat(n)),
      fc.constantFrom('', ' ', '../../etc/passwd', '${jndi:ldap://x}', '\u00ff\u00fe', 'id-1, id-2'),
    ),
  ),
  fc.tuple(fc.constantFrom('Accept', 'Accept-Language', 'User-Agent', 'X-Forwarded-For', 'Forwarded', 'Cookie', 'Authorization', 'Origin', 'Referer'), nastyString.map(headerBytes)),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,24}$/).map((n) => `X-Hostile-${n}`), nastyString.map(headerBytes)),
);

/** Finishes a family: Host first, noise headers, an ignored query where the route reads none. */
function finish(endpoint: string, family: Family, host: string, readsQuery: boolean): fc.Arbitrary<HostileRequest> {
  const query = readsQuery
    ? fc.constant('')
    : fc.option(fc.constantFrom('?x=1', '?limit=abc', '?%ff=%00', '?a[b]=c&a=1', `?q=${pct('\u202e\ud800')}`), { nil: '' });
  return fc.tuple(family, fc.array(noiseHeader, { maxLength: 3 }), query).map(([parts, noise, q]) =>
    hostile({
      endpoint,
      method: parts.method,
      target: parts.target.includes('?') ? parts.target : parts.target + q,
      headers: [['Host', host], ...parts.headers, ...noise],
      body: parts.body,
      chunked: parts.chunked,
      defects: parts.defects,
    }),
  );
}

/** Path segments that are not a positive 32-bit decimal id, percent-encoded as a client would send them. */
export const notAnEntityId: fc.Arbitrary<{ segment: string; defect: string }> = fc
  .oneof(
    fc
      .constantFrom(
        '0', '-1', '-0', '+1', '1.5', '1.0', '1e3', '1E3', '007', '01', '0x1F', '0b1', '2147483648', '4294967297', '99999999999',
        '9007199254740993', '1e308', 'NaN', 'Infinity', '-Infinity', 'null', 'undefined', 'true', '[1]', '{}', ' 1', '1 ', '\t1',
        '1\u0000', '\u0000', '1/2', '/', '1\\2', '.', '..', '...', '~1', '1;2', '1,2', '\u0661', '\uff11', '\u00b9', '1\u200b',
        '\u202e1', '\ud800', '1\udfff', '1#', '1?',
      )
      .map((id) => ({ segment: id === '.' || id === '..' ? id : pct(id), defect: `id ${JSON.stringify(id)}` })),
    fc.constantFrom('%2F', '1%2F2', '1%2f', '%2E', '%2E%2E', '%2e%2e%2f1', '%E0%A4%A', '%ZZ', '%', '1%', '%u0031', '%C0%AF', '%ED%A0%80').map((segment) => ({
      segment,
      defect: `encoded id ${segment}`,
    })),
    nastyString.map((s) => ({ segment: pct(s), defect: 'unicode id' })),
    fc.integer({ min: 11, max: 12_000 }).map((n) => ({ segment: '1'.repeat(n), defect: `id of ${n} digits` })),
    fc.integer(OVER_HEADER_LIMIT).map((n) => ({ segment: '9'.repeat(n), defect: `id of ${n} digits (past the header limit)` })),
  )
  .filter(({ segment }) => {
    let id = segment;
    try {
      id = decodeURIComponent(segment);
    } catch {
      // kept as is, like the router
    }
    return !(/^[1-9][0-9]{0,9}$/.test(id) && Number(id) <= MAX_INT32);
  });

/** Path segments that are not a UUID: near misses of a real one, nasty strings, very long ones. */
export const notAUuid: fc.Arbitrary<{ segment: string; defect: string }> = fc
  .oneof(
    fc.tuple(fc.uuid(), fc.nat(35), fc.constantFrom('drop', 'insert', 'replace', 'no hyphens', 'braces', 'urn', 'spaces', 'doubled', 'slash', 'nul')).map(
      ([uuid, at, how]) => {
        const near =
          how === 'drop'
            ? uuid.slice(0, at) + uuid.slice(at + 1)
            : how === 'insert'
              ? `${uuid.slice(0, at)}a${uuid.slice(at)}`
              : how === 'replace'
                ? `${uuid.slice(0, at)}g${uuid.slice(at + 1)}`
                : how === 'no hyphens'
                  ? uuid.replace(/-/g, '')
                  : how === 'braces'
                    ? `{${uuid}}`
                    : how === 'urn'
                      ? `urn:uuid:${uuid}`
                      : how === 'spaces'
                        ? ` ${uuid} `
                        : how === 'doubled'
                          ? uuid + uuid
                          : how === 'slash'
                            ? `${uuid}/x`
                            : `${uuid}\u0000`;
        return { segment: pct(near), defect: `UUID near miss (${how})` };
      },
    ),
    fc.uuid().map((uuid) => ({ segment: `${uuid}%E2%80%8B`, defect: 'UUID with a zero-width space' })),
    fc.uuid().map((uuid) => ({ segment: `%E2%80%AE${uuid}`, defect: 'UUID after an RTL override' })),
    fc.uuid().map((uuid) => ({ segment: `${uuid}%ED%A0%80`, defect: 'UUID with a lone surrogate' })),
    fc.constantFrom('.', '..', '%2E%2E', '%2F', '%00', '0', '-1', 'null', '00000000-0000-0000-0000-00000000000g').map((segment) => ({ segment, defect: `id ${segment}` })),
    nastyString.map((s) => ({ segment: pct(s), defect: 'unicode id' })),
    fc.integer({ min: 37, max: 12_000 }).map((n) => ({ segment: 'a'.repeat(n), defect: `id of ${n} characters` })),
    fc.integer(OVER_HEADER_LIMIT).map((n) => ({ segment: 'f'.repeat(n), defect: `id of ${n} characters (past the header limit)` })),
  )
  .filter(({ segment }) => {
    let id = segment;
    try {
      id = decodeURIComponent(segment);
    } catch {
      // kept as is, like the router
    }
    return !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  });

/** `template` with `:id` replaced by each invalid or absent id, and structural variants that match no route. */
function pathFamilies(
  method: string,
  template: string,
  validId: fc.Arbitrary<string>,
  invalidId: fc.Arbitrary<{ segment: string; defect: string }>,
  absentId: fc.Arbitrary<string> | undefined,
  rest: (target: string) => Omit<Parts, 'method' | 'target' | 'defects'>,
): (Family | [Family, number])[] {
  const at = (id: string) => template.replace(':id', id);
  const families: (Family | [Family, number])[] = [
    [invalidId.map(({ segment, defect }) => ({ method, target: at(segment), defects: [defect], ...rest(at(segment)) })), 4],
    fc
      .tuple(validId, fc.constantFrom('extra segment', 'encoded slash', 'double slash', 'leading double slash', 'dot segment', 'dot-dot segment'))
      .map(([id, how]) => {
        const target =
          how === 'extra segment'
            ? `${at(id)}/x`
            : how === 'encoded slash'
              ? `${at(id)}%2Fx`
              : how === 'double slash'
                ? at(`/${id}`)
                : how === 'leading double slash'
                  ? `/${at(id)}`
                  : how === 'dot segment'
                    ? `${at(id)}/.`
                    : `${at(id)}/..`;
        return { method, target, defects: [`path with ${how}`], ...rest(target) };
      }),
  ];
  if (absentId) families.push(absentId.map((id) => ({ method, target: at(id), defects: [`id ${id} exists nowhere`], ...rest(at(id)) })));
  return families;
}

/** The generators of one endpoint. */
export interface EndpointGenerator {
  endpoint: string;
  arbitrary: fc.Arbitrary<HostileRequest>;
}

/** Builds the generator of every endpoint for the fixtures `fx` and the server at `host`. */
export function endpointGenerators(fx: Fixtures, host: string): EndpointGenerator[] {
  const absent = fc.constantFrom(...fx.absentIds);
  const absentText = absent.map(String);
  const uuid = fc.uuid();
  const key = (name: string, value: string): [string, string] => [name, value];
  const noBody = () => ({ headers: [] as [string, string][] });
  const others = (...mine: string[]) => STANDARD_METHODS.filter((m) => !mine.includes(m));

  /**
   * An endpoint's generator: its own families (`[family, weight]`; a bare family weighs
   * 1), the method and header-size families (1 each) and the protocol family (2).
   */
  const make = (
    endpoint: string,
    families: (Family | [Family, number])[],
    validParts: fc.Arbitrary<Parts>,
    wrongMethods: readonly string[],
    readsQuery = false,
  ): EndpointGenerator => {
    const weighted = [...families, ...requestFamilies(validParts, wrongMethods)].map((entry) => {
      const [family, weight] = Array.isArray(entry) ? entry : [entry, 1];
      return { arbitrary: finish(endpoint, family, host, readsQuery), weight };
    });
    return { endpoint, arbitrary: fc.oneof(...weighted, { arbitrary: rawFamily(validParts, endpoint, host), weight: 2 }) };
  };

  // POST /orders ------------------------------------------------------------------------
  const item = (productId: string, quantity: string) => objectText([['productId', productId], ['quantity', quantity]]);
  const validItems = fc.constantFrom([fx.productA], [fx.productB], [fx.productA, fx.productB], [fx.productB, fx.productA]).map((ids) => ids.map((id) => item(String(id), '1')));
  const order = (userId: string, items: string, extra: [string, string][] = []) => objectText([['userId', userId], ['items', items], ...extra]);
  const validOrder = validItems.map((items) => order(String(fx.userId), `[${items.join(',')}]`));
  const orderBodies: fc.Arbitrary<{ text: string; defect: string }> = fc.oneof(
    fc.tuple(fc.oneof(neverValidValue, absentText, fc.constant(String(fx.userWithoutAccount))), validItems).map(([u, items]) => ({ text: order(u, `[${items.join(',')}]`), defect: `userId ${u.slice(0, 40)}` })),
    fc.tuple(validItems, fc.nat(), pastMax(1000)).map(([items, i, q]) => {
      const at = i % items.length;
      const bad = items.map((it, j) => (j === at ? item(String(JSON.parse(it).productId), q) : it));
      return { text: order(String(fx.userId), `[${bad.join(',')}]`), defect: `quantity ${q.slice(0, 40)}` };
    }),
    fc.tuple(validItems, fc.oneof(neverValidValue, absentText)).map(([items, p]) => ({ text: order(String(fx.userId), `[${[item(p, '1'), ...items].join(',')}]`), defect: `productId ${p.slice(0, 40)}` })),
    fc.constantFrom(fx.productA, fx.productB).map((p) => ({ text: order(String(fx.userId), `[${item(String(p), '1')},${item(String(p), '2')}]`), defect: 'duplicate productId' })),
    neverValidValue.map((v) => ({ text: order(String(fx.userId), v), defect: `items ${v.slice(0, 40)}` })),
    fc.constant({ text: order(String(fx.userId), `[${Array.from({ length: 51 }, (_, i) => item(String(i + 1), '1')).join(',')}]`), defect: '51 items' }),
    fc.tuple(validItems, fc.constantFrom('productId', 'quantity')).map(([items, drop]) => ({
      text: order(String(fx.userId), `[${objectText(drop === 'productId' ? [['quantity', '1']] : [['productId', String(fx.productA)]])},${items.slice(1).join(',')}]`.replace(',]', ']')),
      defect: `item without ${drop}`,
    })),
    fc.tuple(validItems, extraKey(['productId', 'quantity']), neverValidValue).map(([items, k, v]) => ({
      text: order(String(fx.userId), `[${objectText([['productId', String(fx.productA)], ['quantity', '1'], [k, v]])}${items.length > 1 ? ',' + items.filter((it) => JSON.parse(it).productId !== fx.productA).join(',') : ''}]`.replace(',]', ']')),
      defect: `unknown item field ${JSON.stringify(k)}`,
    })),
    fc.constantFrom(...DEPTHS).map((d) => ({ text: order(String(fx.userId), deepArray(d, item(String(fx.productA), '1'))), defect: `items nested ${d} deep` })),
    validItems.map((items) => ({ text: order(String(fx.userId), `[${items.map((it) => `[${it}]`).join(',')}]`), defect: 'items that are arrays' })),
    fc.tuple(validItems, fc.constantFrom('userId', 'items')).map(([items, drop]) => ({
      text: objectText(drop === 'userId' ? [['items', `[${items.join(',')}]`]] : [['userId', String(fx.userId)]]),
      defect: `no ${drop}`,
    })),
    fc.tuple(validItems, extraKey(['userId', 'items']), fc.oneof(neverValidValue, fc.constant('1'))).map(([items, k, v]) => ({ text: order(String(fx.userId), `[${items.join(',')}]`, [[k, v]]), defect: `unknown field ${JSON.stringify(k)}` })),
    fc.tuple(validItems, neverValidValue).map(([items, v]) => ({ text: order(String(fx.userId), `[${items.join(',')}]`, [['userId', v]]), defect: 'duplicate userId key, the last bad' })),
    validOrder.map((text) => ({ text: `[${text}]`, defect: 'array body' })),
    fc.tuple(validOrder, fc.constantFrom(...DEPTHS)).map(([text, d]) => ({ text: deepArray(d, text), defect: `body nested ${d} deep` })),
    fc.constant({ text: '{}', defect: 'empty object' }),
  );
  const ordersValidParts = fc.tuple(validOrder, jsonTypes).map(([text, type]) => withJson('POST', '/orders', text, type, []));
  const orders = make(
    'POST /orders',
    [
      [fc.tuple(orderBodies, jsonTypes).map(([b, type]) => withJson('POST', '/orders', b.text, type, [b.defect])), 8],
      ...bodyEnvelopeFamilies('POST', fc.constant('/orders'), validOrder),
      fc.tuple(ordersValidParts, badIdempotencyKeys).map(([parts, k]) => ({ ...parts, headers: [...parts.headers, ...k.values.map((v) => key('Idempotency-Key', v))], defects: [k.defect] })),
    ],
    ordersValidParts,
    others('POST'),
  );

  // GET /orders/:id, GET /reservations/:id, DELETE /reservations/:id -----------------------
  const byUuid = (endpoint: string, method: string, template: string, wrong: readonly string[]) =>
    make(endpoint, pathFamilies(method, template, uuid, notAUuid, undefined, noBody), uuid.map((id) => ({ method, target: template.replace(':id', id), headers: [], defects: [] })), wrong);
  const getOrder = byUuid('GET /orders/:id', 'GET', '/orders/:id', others('GET'));
  const getReservation = byUuid('GET /reservations/:id', 'GET', '/reservations/:id', ['PUT', 'PATCH', 'POST']);
  const deleteReservation = byUuid('DELETE /reservations/:id', 'DELETE', '/reservations/:id', ['PUT', 'PATCH', 'POST']);

  // GET /products -----------------------------------------------------------------------
  const queryValueRefused = (name: 'limit' | 'offset') => (value: string) => {
    const parsed = querystring.parse(`${name}=${value}`)[name];
    const n = typeof parsed === 'string' ? Number(parsed) : NaN;
    return !(Number.isInteger(n) && n >= (name === 'limit' ? 1 : 0) && n <= (name === 'limit' ? 500 : MAX_INT32));
  };
  const badQueryValue = (name: 'limit' | 'offset') =>
    fc
      .oneof(
        fc.constantFrom('0', '-1', '501', '1000', '1.5', 'abc', '', 'NaN', 'Infinity', '-Infinity', '1e308', '9007199254740993', '2147483648', '-0.5', '%00', '%EF%BC%91', '%D9%A1', '1%2C2', '%ED%A0%80', '1e400', '0x', '--1'),
        nastyString.map(pct),
        fc.integer({ min: 501, max: MAX_INT32 }).map(String),
        fc.integer({ min: 1, max: 10_000 }).map((n) => '9'.repeat(n)),
      )
      .filter(queryValueRefused(name));
  const validQuery = fc.tuple(fc.option(fc.integer({ min: 1, max: 500 })), fc.option(fc.integer({ min: 0, max: MAX_INT32 }))).map(([l, o]) =>
    [l === null ? '' : `limit=${l}`, o === null ? '' : `offset=${o}`].filter(Boolean).join('&'),
  );
  const badQuery: fc.Arbitrary<{ query: string; defect: string }> = fc.oneof(
    fc.tuple(badQueryValue('limit'), validQuery).map(([v, q]) => ({ query: [`limit=${v}`, q.replace(/limit=\d+&?/, '')].filter(Boolean).join('&'), defect: `limit ${v.slice(0, 40)}` })),
    fc.tuple(badQueryValue('offset'), validQuery).map(([v, q]) => ({ query: [q.replace(/&?offset=\d+/, ''), `offset=${v}`].filter(Boolean).join('&'), defect: `offset ${v.slice(0, 40)}` })),
    fc.constantFrom('limit=1&limit=2', 'offset=1&offset=1', 'limit[]=1', 'limit[a]=1', 'sort=name', '__proto__=1', 'constructor=1', 'limit', 'x', '=1', '&&=&').map((query) => ({ query, defect: `query ${query}` })),
    fc.tuple(nastyString, validQuery).map(([k, q]) => ({ query: [`${pct(k)}=1`, q].filter(Boolean).join('&'), defect: 'unknown query key' })).filter(({ query }) => !/^(limit|offset)=/.test(decodeURIComponentSafe(query.split('&')[0]!))),
  );
  const products = make(
    'GET /products',
    [
      [fc.tuple(badQuery, fc.constantFrom('/products', '/products/', '/PRODUCTS')).map(([q, path]) => ({ method: 'GET', target: `${path}?${q.query}`, headers: [], defects: [q.defect] })), 6],
      fc.constantFrom('/products%2F', '/products.json', '/products/x/y', '//products', '/products;x', '/products%00').map((target) => ({ method: 'GET', target, headers: [], defects: [`path ${target}`] })),
    ],
    validQuery.map((q) => ({ method: 'GET', target: q ? `/products?${q}` : '/products', headers: [], defects: [] })),
    others('GET'),
    true,
  );

  // GET /products/:id, GET /users/:id/points, GET /performances/:id/seats -------------------
  const byEntityId = (endpoint: string, template: string, valid: number[]) => {
    const validId = fc.constantFrom(...valid).map(String);
    return make(
      endpoint,
      pathFamilies('GET', template, validId, notAnEntityId, absentText, noBody),
      validId.map((id) => ({ method: 'GET', target: template.replace(':id', id), headers: [], defects: [] })),
      others('GET'),
    );
  };
  const getProduct = byEntityId('GET /products/:id', '/products/:id', [fx.productA, fx.productB]);
  const getPoints = byEntityId('GET /users/:id/points', '/users/:id/points', [fx.userId]);
  const getSeats = byEntityId('GET /performances/:id/seats', '/performances/:id/seats', [fx.performanceA, fx.performanceB]);

  // POST /users/:id/points/top-ups ------------------------------------------------------
  const topUpPath = (id: string | number) => `/users/${id}/points/top-ups`;
  const validAmount = fc.integer({ min: 1, max: 10_000_000 }).map((amount) => objectText([['amount', String(amount)]]));
  const topUpBodies: fc.Arbitrary<{ text: string; defect: string }> = fc.oneof(
    pastMax(10_000_000).map((a) => ({ text: objectText([['amount', a]]), defect: `amount ${a.slice(0, 40)}` })),
    fc.constant({ text: '{}', defect: 'no amount' }),
    fc.tuple(extraKey(['amount']), fc.oneof(neverValidValue, fc.constant('"KRW"'))).map(([k, v]) => ({ text: objectText([['amount', '100'], [k, v]]), defect: `unknown field ${JSON.stringify(k)}` })),
    neverValidValue.map((v) => ({ text: objectText([['amount', '100'], ['amount', v]]), defect: 'duplicate amount key, the last bad' })),
    validAmount.map((text) => ({ text: `[${text}]`, defect: 'array body' })),
    fc.constantFrom(...DEPTHS).map((d) => ({ text: objectText([['amount', deepObject(d)]]), defect: `amount nested ${d} deep` })),
  );
  const topUpValidParts = fc.tuple(validAmount, jsonTypes).map(([text, type]) => withJson('POST', topUpPath(fx.userId), text, type, []));
  const topUps = make(
    'POST /users/:id/points/top-ups',
    [
      [fc.tuple(topUpBodies, jsonTypes).map(([b, type]) => withJson('POST', topUpPath(fx.userId), b.text, type, [b.defect])), 8],
      ...bodyEnvelopeFamilies('POST', fc.constant(topUpPath(fx.userId)), validAmount),
      fc.tuple(topUpValidParts, badIdempotencyKeys).map(([parts, k]) => ({ ...parts, headers: [...parts.headers, ...k.values.map((v) => key('Idempotency-Key', v))], defects: [k.defect] })),
      ...pathFamilies('POST', topUpPath(':id'), fc.constant(String(fx.userId)), notAnEntityId, fc.oneof(absentText, fc.constant(String(fx.userWithoutAccount))), () => ({
        headers: [['Content-Type', 'application/json']],
        body: utf8('{"amount":100}'),
      })),
    ],
    topUpValidParts,
    others('POST'),
  );

  // GET /concerts ----------------------------------------------------------------------
  const concerts = make(
    'GET /concerts',
    [
      [
        fc
          .oneof(
            fc.constantFrom('/concerts/x', '/concerts%2F', '/concerts.json', '/concerts/1', '//concerts', '/concerts/..', '/concerts;x', '/concerts%00', '/concert'),
            notAnEntityId.map((id) => `/concerts/${id.segment}`),
          )
          .map((target) => ({ method: 'GET', target, headers: [], defects: [`path ${target.slice(0, 60)}`] })),
        4,
      ],
    ],
    fc.constant({ method: 'GET', target: '/concerts', headers: [], defects: [] }),
    others('GET'),
  );

  // POST /reservations -----------------------------------------------------------------
  const seatList = fc.subarray(fx.seatsA, { minLength: 1, maxLength: Math.min(10, fx.seatsA.length) });
  const reservation = (fields: { userId?: string; performanceId?: string; seatIds?: string; holdSeconds?: string }, extra: [string, string][] = []) =>
    objectText([...(Object.entries(fields).filter(([, v]) => v !== undefined) as [string, string][]), ...extra]);
  const validReservationFields = fc.tuple(seatList, fc.option(fc.integer({ min: 1, max: 1800 }), { nil: undefined })).map(([seats, hold]) => ({
    userId: String(fx.userId),
    performanceId: String(fx.performanceA),
    seatIds: JSON.stringify(seats),
    holdSeconds: hold === undefined ? undefined : String(hold),
  }));
  const validReservation = validReservationFields.map((f) => reservation(f));
  const reservationBodies: fc.Arbitrary<{ text: string; defect: string }> = fc.oneof(
    fc.tuple(validReservationFields, fc.oneof(neverValidValue, absentText, fc.constant(String(fx.userWithoutAccount)))).map(([f, u]) => ({ text: reservation({ ...f, userId: u }), defect: `userId ${u.slice(0, 40)}` })),
    fc.tuple(validReservationFields, fc.oneof(neverValidValue, absentText)).map(([f, p]) => ({ text: reservation({ ...f, performanceId: p }), defect: `performanceId ${p.slice(0, 40)}` })),
    fc.tuple(validReservationFields, neverValidValue.filter((v) => v !== '[1]')).map(([f, s]) => ({ text: reservation({ ...f, seatIds: s }), defect: `seatIds ${s.slice(0, 40)}` })),
    fc.tuple(validReservationFields, fc.oneof(neverValidValue, absentText, fc.constantFrom(...fx.seatsB).map(String))).map(([f, s]) => ({
      text: reservation({ ...f, seatIds: `[${[...(JSON.parse(f.seatIds!) as number[]).map(String), s].join(',')}]` }),
      defect: `seat ${s.slice(0, 40)}`,
    })),
    fc.tuple(validReservationFields, fc.constantFrom(...fx.seatsA)).map(([f, s]) => ({ text: reservation({ ...f, seatIds: `[${s},${s}]` }), defect: 'duplicate seat' })),
    validReservationFields.map((f) => ({ text: reservation({ ...f, seatIds: JSON.stringify([...fx.seatsA, ...fx.absentIds].slice(0, 11)) }), defect: '11 seats' })),
    fc.tuple(validReservationFields, pastMax(1800)).map(([f, h]) => ({ text: reservation({ ...f, holdSeconds: h }), defect: `holdSeconds ${h.slice(0, 40)}` })),
    fc.tuple(validReservationFields, fc.constantFrom('userId', 'performanceId', 'seatIds')).map(([f, drop]) => ({ text: reservation({ ...f, [drop]: undefined }), defect: `no ${drop}` })),
    fc.tuple(validReservationFields, extraKey(['userId', 'performanceId', 'seatIds', 'holdSeconds']), fc.oneof(neverValidValue, fc.constant('1'))).map(([f, k, v]) => ({ text: reservation(f, [[k, v]]), defect: `unknown field ${JSON.stringify(k)}` })),
    fc.tuple(validReservationFields, neverValidValue).map(([f, v]) => ({ text: reservation(f, [['performanceId', v]]), defect: 'duplicate performanceId key, the last bad' })),
    fc.tuple(validReservationFields, fc.constantFrom(...DEPTHS)).map(([f, d]) => ({ text: reservation({ ...f, seatIds: deepArray(d, String(fx.seatsA[0])) }), defect: `seatIds nested ${d} deep` })),
    validReservation.map((text) => ({ text: `[${text}]`, defect: 'array body' })),
  );
  const reservationValidParts = fc.tuple(validReservation, jsonTypes).map(([text, type]) => withJson('POST', '/reservations', text, type, []));
  const reservations = make(
    'POST /reservations',
    [
      [fc.tuple(reservationBodies, jsonTypes).map(([b, type]) => withJson('POST', '/reservations', b.text, type, [b.defect])), 8],
      ...bodyEnvelopeFamilies('POST', fc.constant('/reservations'), validReservation),
      fc.tuple(reservationValidParts, badIdempotencyKeys).map(([parts, k]) => ({ ...parts, headers: [...parts.headers, ...k.values.map((v) => key('Idempotency-Key', v))], defects: [k.defect] })),
    ],
    reservationValidParts,
    others('POST'),
  );

  // POST /reservations/:id/payment -------------------------------------------------------
  const paymentPath = uuid.map((id) => `/reservations/${id}/payment`);
  const paymentBodies: fc.Arbitrary<{ text: string; defect: string }> = fc.oneof(
    fc.tuple(extraKey([]), fc.oneof(neverValidValue, fc.constantFrom('1', '1000', '"card"'))).map(([k, v]) => ({ text: objectText([[k, v]]), defect: `body field ${JSON.stringify(k)}` })),
    fc.constantFrom('[]', '[{}]', deepArray(10_000), deepObject(10_000), '{"amount":1000}', '{"":null}').map((text) => ({ text, defect: `body ${text.slice(0, 30)}` })),
  );
  const payment = make(
    'POST /reservations/:id/payment',
    [
      [fc.tuple(paymentPath, paymentBodies, jsonTypes).map(([path, b, type]) => withJson('POST', path, b.text, type, [b.defect])), 3],
      ...bodyEnvelopeFamilies('POST', paymentPath, fc.constant('{}')),
      ...pathFamilies('POST', '/reservations/:id/payment', uuid, notAUuid, undefined, noBody),
    ],
    paymentPath.map((target) => ({ method: 'POST', target, headers: [], defects: [] })),
    ['GET', 'PUT', 'PATCH', 'DELETE'],
  );

  return [orders, getOrder, products, getProduct, getPoints, topUps, concerts, getSeats, reservations, payment, deleteReservation, getReservation];
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Request families every endpoint shares: the parts of a request before noise, the
 * defects of a JSON body as a whole (media type, malformed JSON, 1 MB, Content-Encoding),
 * bad Idempotency-Keys, and refusals by method or by the size of the headers.
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import type { Expected } from './expected.ts';
import { headerBytes, malformedJson, nastyString, wtf8 } from './values.ts';

/** A request before noise, Host and the summary method. */
export interface Parts {
  method: string;
  target: string;
  headers: [string, string][];
  body?: Buffer;
  chunked?: boolean;
  defects: string[];
  /** The exact answer, when the family knows it; a valid request's parts never have one. */
  expect?: Expected;
}

/** A generator of requests with one defect each. */
export type Family = fc.Arbitrary<Parts>;
/** A family and its weight among an endpoint's families (a bare family weighs 1). */
export type WeightedFamily = Family | [Family, number];

const MB = 1024 * 1024;
/** Bytes past Node's 16 KiB request-head limit. */
export const OVER_HEADER_LIMIT = { min: 20 * 1024, max: 48 * 1024 };

/** The methods the API has routes for. */
export const STANDARD_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Methods Node parses but the API implements on no route (answered 501). */
export const UNKNOWN_METHODS = ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'PURGE', 'SEARCH', 'REPORT', 'COPY', 'MOVE', 'TRACE', 'LINK'];

/** Content-Type values of a JSON body. */
export const jsonTypes = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=utf-16');
const WRONG_TYPES = [
  'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml',
  'application/jsonx', 'application/json5', 'application/json-patch+json', 'application/vnd.api+json', 'application/javascript',
  '*/*', 'application/*', 'json', 'application', 'application/ json', 'application/octet-stream', 'x/\u00ff\u00fe',
];

/** Body bytes of a JSON text; lone surrogates (if any) as their invalid 3-byte form. */
export function utf8(text: string): Buffer {
  return /[\ud800-\udfff]/.test(text) ? wtf8(text) : Buffer.from(text, 'utf8');
}

/** A valid JSON request's parts: `body` text with a JSON content type. */
export const withJson = (method: string, target: string, text: string, contentType: string, defects: string[], extra: [string, string][] = []): Parts => ({
  method,
  target,
  headers: [['Content-Type', contentType], ...extra],
  body: utf8(text),
  defects,
});

/** Defects of the body as a whole, applied to a valid body text. */
export function bodyEnvelopeFamilies(method: string, target: fc.Arbitrary<string>, validText: fc.Arbitrary<string>): Family[] {
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

/**
 * The families of an endpoint that takes a JSON body at `target` (a POST that honours an
 * Idempotency-Key): the body defects `bodies` (weight 8), the defects of a valid body
 * ({@link bodyEnvelopeFamilies}) and a bad Idempotency-Key on a valid request; also the
 * valid request's parts.
 */
export function jsonBodyFamilies(
  target: string,
  bodies: fc.Arbitrary<{ text: string; defect: string }>,
  validText: fc.Arbitrary<string>,
): { families: WeightedFamily[]; validParts: fc.Arbitrary<Parts> } {
  const validParts = fc.tuple(validText, jsonTypes).map(([text, type]) => withJson('POST', target, text, type, []));
  const families: WeightedFamily[] = [
    [fc.tuple(bodies, jsonTypes).map(([b, type]) => withJson('POST', target, b.text, type, [b.defect])), 8],
    ...bodyEnvelopeFamilies('POST', fc.constant(target), validText),
    fc.tuple(validParts, badIdempotencyKeys).map(([parts, k]) => ({
      ...parts,
      headers: [...parts.headers, ...k.values.map((v): [string, string] => ['Idempotency-Key', v])],
      defects: [k.defect],
    })),
  ];
  return { families, validParts };
}

/** A header (whatever the route) pushing the request head past 16 KiB: 431. */
const oversizedHeader: fc.Arbitrary<[string, string]> = fc.tuple(
  fc.constantFrom('X-Request-Id', 'Idempotency-Key', 'Content-Type', 'Cookie', 'X-Hostile-Padding'),
  fc.integer(OVER_HEADER_LIMIT),
).map(([name, n]) => [name, 'a'.repeat(n)]);

/** Families that refuse a valid request by its method or its headers' size. */
export function requestFamilies(valid: fc.Arbitrary<Parts>, wrongMethods: readonly string[]): Family[] {
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

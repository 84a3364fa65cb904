/**
 * Hostile building blocks: strings full of the characters that break parsers and
 * validators, JSON texts no field of the API accepts, and the encodings that carry them
 * in a path, a query or a header. JSON is built as text, so it can hold what
 * `JSON.stringify` never writes: `-0`, `1e309`, 2^53+1 digits, duplicate keys, 10,000
 * levels of nesting.
 */
import fc from 'fast-check';

/** Largest id of a user, product, performance or seat. */
export const MAX_INT32 = 2_147_483_647;

/**
 * UTF-8 bytes of `text`, except that a lone surrogate is written as its 3-byte form
 * (WTF-8, e.g. ED A0 80), which is invalid UTF-8: what a careless client sends.
 */
export function wtf8(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      bytes.push(...Buffer.from(text.slice(i, i + 2), 'utf8'));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      bytes.push(0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f));
    } else {
      bytes.push(...Buffer.from(text[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** Percent-encodes every byte of {@link wtf8}(text) except unreserved characters. */
export function pct(text: string): string {
  let out = '';
  for (const byte of wtf8(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A header value carrying `text` as its UTF-8 (WTF-8) bytes, one char per byte, minus the
 * control bytes no HTTP client may send in a well-formed header (those are tested raw).
 */
export function headerBytes(text: string): string {
  return wtf8(text)
    .toString('latin1')
    .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
}

/** Characters that trip parsers and validators: NUL, RTL and zero-width marks, lone surrogates, non-ASCII digits, separators. */
export const NASTY_CHARS = [
  '\u0000', '\u0007', '\t', '\n', '\r', '\u001b', '\u007f',
  '\u202e', '\u202d', '\u200f', '\u200e', '\u061c', // RTL / LTR overrides and marks
  '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', // zero-width
  '\ud800', '\udbff', '\udc00', '\udfff', // lone surrogates
  '\u0661', '\u06f1', '\u0967', '\uff11', '\u00b9', '\u2460', // digits that are not [0-9]
  '\u00a0', '\u3000', '\u2028', '\u2029', // spaces and line separators
  'é', 'ß', 'İ', '\u0301', '😀', '\ufffd', '\uffff',
  '/', '\\', '.', '..', '%', '%00', '%2F', '?', '#', '&', '=', ';', ',', ' ', '"', "'", '<', '>', '{', '}', '[', ']',
];

/** Short strings mixing {@link NASTY_CHARS} with arbitrary code units (lone surrogates included). */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom(...NASTY_CHARS), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), minLength: 1, maxLength: 12 }),
);

/** JSON text of a string (lone surrogates written as `\uD800` escapes, as `JSON.stringify` does). */
export const jsonString = (text: string): string => JSON.stringify(text);

/** `depth` nested arrays (`[[[...]]]`) around `inner`. */
export const deepArray = (depth: number, inner = ''): string => '['.repeat(depth) + inner + ']'.repeat(depth);

/** `depth` nested objects (`{"a":{"a":...}}`) around `inner`. */
export const deepObject = (depth: number, inner = '1'): string => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);

/** Nesting depths of the deep-JSON family: 10,000 is the one the brief asks for. */
export const DEPTHS = [64, 1_000, 10_000] as const;

/** JSON texts of numbers no id, quantity, amount or hold accepts: not positive, not an integer, or past 2^31-1. */
export const NEVER_VALID_NUMBERS = [
  '0', '-0', '-1', '-2147483648', '-9007199254740993', '-1e308', '-1e309',
  '2147483648', '4294967296', '9007199254740992', '9007199254740993', '18446744073709551616',
  '1e308', '1.7976931348623157e308', '1e309', '1e400', '123456789012345678901234567890',
  '0.5', '1.5', '-0.5', '1e-7', '1e-400', '2.5e0', '1000.5', '0.1e1000', '2147483648.5',
];

/** JSON texts of values of the wrong type for any field: strings (numbers as strings too), booleans, null, containers. */
export const WRONG_TYPE_TEXTS = [
  '"1"', '"NaN"', '"Infinity"', '"-Infinity"', '"1e308"', '"9007199254740993"', '"-0"', '""', '" 1"', '"0x10"',
  '"\\u0000"', '"\\u202e1"', '"1\\u200b"', '"\\ud800"', '"\\udfff1"', '"\\u0661"', '"\\uff11"',
  'true', 'false', 'null', '[]', '{}', '[1]', '[[1]]', '{"value":1}', '{"0":1}',
];

/** A JSON text of any value some numeric field could not accept: {@link NEVER_VALID_NUMBERS}, wrong types, deep nesting, nasty strings. */
export const neverValidValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NEVER_VALID_NUMBERS) },
  { weight: 4, arbitrary: fc.constantFrom(...WRONG_TYPE_TEXTS) },
  { weight: 2, arbitrary: nastyString.map(jsonString) },
  { weight: 1, arbitrary: fc.constantFrom(...DEPTHS).map((d) => deepArray(d, '1')) },
  { weight: 1, arbitrary: fc.constantFrom(...DEPTHS).map((d) => deepObject(d)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((n) => jsonString('9'.repeat(n))) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x) || x < 1 || x > MAX_INT32).map((x) => JSON.stringify(x)) },
);

/** A JSON text of an integer past `max` but within 32 bits, or one of {@link neverValidValue}. */
export const pastMax = (max: number): fc.Arbitrary<string> =>
  fc.oneof(fc.integer({ min: max + 1, max: MAX_INT32 }).map(String), neverValidValue);

/** JSON object text from `[key, valueText]` entries, in order (duplicates kept). */
export function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

/** Names a strict body never accepts beside its own fields (plus nasty ones). */
export const extraKey = (allowed: readonly string[]): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', 'id', 'priceWon', 'admin', 'userId ', 'USERID', 'user\u200bId', 'user\u0000Id', '\ud800', '\u202euserId'),
      nastyString,
    )
    .filter((key) => !allowed.includes(key));

/** JSON texts that `JSON.parse` (or the API's strict parser, which wants an object or array) refuses. */
export const malformedJson = (valid: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.integer({ min: 0, max: Math.max(0, valid.length - 1) }).filter((n) => n > 0).map((n) => valid.slice(0, n)),
    fc.constantFrom(' x', '}', ',', ']', '{}', ' // comment', '\u0000').map((tail) => valid + tail),
    fc.constantFrom(
      "{'userId':1}", '{userId:1}', '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":+1}', '{"a":01}', '{"a":.5}',
      '{"a":0x10}', '{"a":1_000}', '{"a":undefined}', '{"a":1,}', '[1,]', '{"a"}', '{"a":"\u0000"}', '{"a":"\n"}',
      '{"a":"\\x41"}', '{"a":"\\u12"}', '/*c*/{}', 'null', 'true', '1', '"str"', '-0', '1e309', ' ', '\ufeff ', '\u0000{}',
      deepArray(10_000).slice(0, -1), deepObject(10_000).slice(0, -1), '{"a":1}{"a":1}',
    ),
  );

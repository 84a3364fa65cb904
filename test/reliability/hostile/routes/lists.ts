/**
 * Generators of the paged lists' queries (the rules are in pages.ts): valid queries, with
 * cursors the list could have written, and queries with one defect whose answer is known
 * exactly, 400 `ValidationFailed` with errors at the bad parameters: a bad `limit`
 * (bounds, signs, leading zeros, decimals, exponents, unicode digits, huge), a bad
 * `cursor` (random or garbage text, another list's cursor, a changed key, another
 * spelling of the same JSON or of the same bytes, too long, repeated), an unknown or
 * bracketed parameter (the old `offset` among them). {@link listEndpoint} builds a list
 * endpoint's generator from them.
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import type { Parts, WeightedFamily } from '../families.ts';
import { cursorAccepted, cursorFields, encodeCursor, MAX_CURSOR_LENGTH, pageQueryErrors, RFC_UUID, type ListName } from '../pages.ts';
import { MAX_INT32, NEVER_VALID_NUMBERS, WRONG_TYPE_TEXTS, nastyString, pct } from '../values.ts';

const LISTS: readonly ListName[] = ['products', 'ledger', 'orders'];
const BASE64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const b64 = (text: string) => Buffer.from(text).toString('base64url');
/** `[list, key]` as JSON text, the key given as text (so it can hold what `JSON.stringify` never writes). */
const payload = (list: string, keyText: string) => `[${JSON.stringify(list)},${keyText}]`;

/** A key `list` could write, as an object with its fields in order. */
function validKey(list: ListName): fc.Arbitrary<Record<string, unknown>> {
  if (list === 'products') return fc.integer({ min: 1, max: MAX_INT32 }).map((id) => ({ id }));
  if (list === 'ledger') return fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.maxSafeNat().map((n) => Math.max(1, n))).map((id) => ({ id }));
  return fc
    .tuple(fc.oneof(fc.nat(), fc.maxSafeNat()), fc.uuid().filter((id) => RFC_UUID.test(id)))
    .map(([createdAtUs, id]) => ({ createdAtUs, id }));
}

/** A cursor `list` could have written. */
export const validCursor = (list: ListName): fc.Arbitrary<string> => validKey(list).map((key) => encodeCursor(list, key));

/** A query value as a client may spell it: as is, or with its first character percent-encoded. */
const spelled = (value: string, encodeFirst: boolean) => (encodeFirst && value !== '' ? `%${value.charCodeAt(0).toString(16).toUpperCase()}${value.slice(1)}` : value);

/**
 * A valid query of `list`, without `?` (possibly empty): `limit` and `cursor`, each
 * optional, in either order; and the page's limit (20 when not given).
 */
export function validPageQuery(list: ListName): fc.Arbitrary<{ query: string; limit: number }> {
  return fc
    .tuple(fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }), fc.option(validCursor(list), { nil: undefined }), fc.boolean(), fc.boolean())
    .map(([limit, cursor, cursorFirst, encodeFirst]) => {
      const parts = [limit === undefined ? '' : `limit=${spelled(String(limit), encodeFirst)}`, cursor === undefined ? '' : `cursor=${spelled(cursor, encodeFirst)}`];
      return { query: (cursorFirst ? parts.reverse() : parts).filter(Boolean).join('&'), limit: limit ?? 20 };
    });
}

/** Values of `limit` a list refuses, as sent in the query (refused as `days` and `limit` of GET /products/popular too). */
export const badLimit: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '0', '00', '01', '010', '0100', '101', '150', '500', '1000', '-1', '-0', '+1', '%2B1', '%201', '1+', '1.0', '1.5', '1e2', '1E1', '0x10', '1_0',
    '%EF%BC%91', '%D9%A1', '%C2%B9', 'abc', '', 'NaN', 'Infinity', '1e308', '9007199254740993', '2147483648', '1%2C2', '1,2', '%00', '1%00',
    '%ED%A0%80', '10%E2%80%8B', '%E2%80%AE10', '--1', 'true', 'null', '[1]', '%', '%1', '%ZZ',
  ),
  nastyString.map(pct),
  fc.integer({ min: 101, max: MAX_INT32 }).map(String),
  fc.integer({ min: 4, max: 3_000 }).map((n) => '9'.repeat(n)),
);

/** Cursor keys `list` never writes, as JSON text: a field of the wrong type or range, a field missing or extra, another shape. */
function badKeyText(list: ListName): fc.Arbitrary<string> {
  const bad = fc.constantFrom(...NEVER_VALID_NUMBERS, ...WRONG_TYPE_TEXTS);
  const others = fc.constantFrom('{}', '[]', 'null', '1', '"1"', '[1]', '{"ID":1}', '{"__proto__":1}', '{"id":1,"x":1}', '{"id":1,"id":2}');
  if (list !== 'orders') return fc.oneof(bad.map((v) => `{"id":${v}}`), others);
  const uuid = fc.uuid().filter((id) => RFC_UUID.test(id));
  return fc.oneof(
    fc.tuple(bad, uuid).map(([v, id]) => `{"createdAtUs":${v},"id":"${id}"}`),
    fc.tuple(fc.maxSafeNat(), fc.oneof(bad, fc.constantFrom('"1"', '"00000000-0000-0000-0000-00000000000g"', '"123e4567-e89b-02d3-a456-426614174000"', '"123e4567-e89b-12d3-7456-426614174000"'))).map(
      ([us, id]) => `{"createdAtUs":${us},"id":${id}}`,
    ),
    uuid.map((id) => `{"id":"${id}"}`),
    fc.maxSafeNat().map((us) => `{"createdAtUs":${us}}`),
    others,
  );
}

/** Another spelling of a valid key's JSON: the same value in other bytes. */
function respelled(list: ListName): fc.Arbitrary<{ text: string; how: string }> {
  return fc.tuple(validKey(list), fc.constantFrom('spaces', 'number as decimal', 'number with exponent', 'escaped list name', 'fields reordered')).map(([key, how]) => {
    const fields = cursorFields(list);
    const ordered = how === 'fields reordered' ? [...fields].reverse() : fields;
    const number = (n: number) => (how === 'number as decimal' ? `${n}.0` : how === 'number with exponent' ? `${n}e0` : String(n));
    const keyText = `{${ordered.map((f) => `${JSON.stringify(f)}:${typeof key[f] === 'number' ? number(key[f]) : JSON.stringify(key[f])}`).join(',')}}`;
    const listText = how === 'escaped list name' ? `"\\u${list.charCodeAt(0).toString(16).padStart(4, '0')}${list.slice(1)}"` : JSON.stringify(list);
    return { text: how === 'spaces' ? `[ ${listText} , ${keyText.replace(/:/g, ': ')} ]` : `[${listText},${keyText}]`, how };
  });
}

/** The same bytes as a valid cursor in another base64: padded, standard alphabet, other unused bits in the last character. */
function rebased(list: ListName): fc.Arbitrary<{ value: string; how: string }> {
  return fc.tuple(validCursor(list), fc.constantFrom('padded', 'standard base64', 'other trailing bits', 'whitespace inside')).map(([cursor, how]) => {
    const bytes = Buffer.from(cursor, 'base64url');
    if (how === 'padded') return { value: bytes.toString('base64'), how };
    if (how === 'standard base64') return { value: bytes.toString('base64').replace(/=+$/, ''), how };
    if (how === 'whitespace inside') return { value: `${cursor.slice(0, 4)} ${cursor.slice(4)}`, how };
    // The last character of a length 2 or 3 (mod 4) carries 4 or 2 bits no byte uses.
    const unused = cursor.length % 4 === 2 ? 15 : cursor.length % 4 === 3 ? 3 : 0;
    const last = BASE64URL.indexOf(cursor.at(-1)!);
    return { value: unused === 0 ? `${cursor}A` : cursor.slice(0, -1) + BASE64URL[last ^ unused]!, how };
  });
}

/** Cursor values (decoded) that `list` refuses. */
function badCursor(list: ListName): fc.Arbitrary<{ value: string; defect: string }> {
  return fc
    .oneof(
      fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 1, maxLength: 700 }).map((value) => ({ value, defect: 'random cursor' })),
      fc.constantFrom(...LISTS.filter((l) => l !== list)).chain((other) => validCursor(other).map((value) => ({ value, defect: `a cursor of ${other}` }))),
      badKeyText(list).map((key) => ({ value: b64(payload(list, key)), defect: `cursor key ${key.slice(0, 60)}` })),
      fc.tuple(validKey(list), fc.constantFrom(list.toUpperCase(), `${list}s`, '', 'cursor')).map(([key, name]) => ({ value: encodeCursor(name, key), defect: `cursor of list ${JSON.stringify(name)}` })),
      validKey(list).map((key) => ({ value: b64(`${payload(list, JSON.stringify(key))}`.replace(/\]$/, ',1]')), defect: 'cursor of three elements' })),
      respelled(list).map(({ text, how }) => ({ value: b64(text), defect: `cursor respelled (${how})` })),
      rebased(list).map(({ value, how }) => ({ value, defect: `cursor rebased (${how})` })),
      fc.constantFrom('', ' ', 'null', 'undefined', '{}', '..', '/', 'x'.repeat(MAX_CURSOR_LENGTH + 1), b64('not json'), b64('{}'), b64('[]'), b64(`["${list}"]`), b64('\ufeff[]')).map((value) => ({
        value,
        defect: `cursor ${JSON.stringify(value.slice(0, 30))}`,
      })),
      nastyString.map((value) => ({ value, defect: 'unicode cursor' })),
    )
    .filter(({ value }) => !cursorAccepted(list, value));
}

/** Parameters a list does not have, as query text: the old paging, misspellings, brackets, prototype names, unicode. */
export const unknownParam: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'offset=0', 'offset=20', 'page=2', 'per_page=10', 'sort=id', 'order=desc', 'next=1', 'items=1', 'Limit=10', 'LIMIT=1', 'Cursor=x',
    'limit[]=1', 'limit[0]=1', 'cursor[]=x', 'limit.x=1', '__proto__=1', '__proto__[limit]=1', 'constructor=1', 'toString=1',
    'hasOwnProperty=1', '=1', '=', 'x', '&&=&', 'limit%00=1', '%20limit=1', 'limit%20=1', 'lim%C4%B1t=1',
  ),
  nastyString.map((key) => `${pct(key)}=1`),
);

/** A query of `list` with one defect, and the error paths the list answers it with. */
export function badPageQuery(list: ListName): fc.Arbitrary<{ query: string; defect: string; errors: string[] }> {
  const limit = fc.option(fc.integer({ min: 1, max: 100 }).map((n) => `limit=${n}`), { nil: '' });
  const cursor = fc.option(validCursor(list).map((c) => `cursor=${c}`), { nil: '' });
  const join = (...parts: string[]) => parts.filter(Boolean).join('&');
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.tuple(badLimit, cursor, fc.boolean()).map(([v, c, first]) => ({ query: first ? join(`limit=${v}`, c) : join(c, `limit=${v}`), defect: `limit ${v.slice(0, 40)}` })) },
      { weight: 4, arbitrary: fc.tuple(badCursor(list), limit, fc.boolean()).map(([b, l, first]) => ({ query: first ? join(`cursor=${pct(b.value)}`, l) : join(l, `cursor=${pct(b.value)}`), defect: b.defect })) },
      fc.tuple(validCursor(list), fc.boolean()).map(([c, same]) => ({ query: `cursor=${c}&cursor=${same ? c : `${c}A`}`, defect: 'cursor given twice' })),
      fc.tuple(fc.integer({ min: 1, max: 100 }), fc.constantFrom('limit=1', 'limit=', 'limit')).map(([n, again]) => ({ query: `limit=${n}&${again}`, defect: `limit given twice (${again})` })),
      { weight: 2, arbitrary: fc.tuple(unknownParam, limit, cursor).map(([p, l, c]) => ({ query: join(l, p, c), defect: `query ${p.slice(0, 40)}` })) },
      fc.constantFrom('cursor=a+b', 'cursor=+', 'limit=+', 'limit=1+', 'cursor', 'cursor=').map((query) => ({ query, defect: `query ${query}` })),
    )
    .map((q) => ({ ...q, errors: pageQueryErrors(list, q.query) }))
    .filter((q) => q.errors.length > 0);
}

/**
 * The generator of the list `list` at `path` (a valid one, whose user exists when it has
 * one): valid queries for the method, header-size and protocol families, and sent as
 * they are, expected a 200 page (weight 1); queries with one defect (weight 6), each
 * expected 400 `ValidationFailed` at its bad parameters, on `path` as spelled in any case
 * and with a trailing slash; and `pathFamilies`.
 */
export function listEndpoint(kit: EndpointKit, endpoint: string, list: ListName, path: fc.Arbitrary<string>, pathFamilies: WeightedFamily[]): EndpointGenerator {
  const pages = fc.tuple(path, validPageQuery(list)).map(([p, { query, limit }]) => ({ target: query ? `${p}?${query}` : p, page: { path: p, limit } }));
  const valid: fc.Arbitrary<Parts> = pages.map(({ target }) => ({ method: 'GET', target, headers: [], defects: [] }));
  const validPage: fc.Arbitrary<Parts> = pages.map(({ target, page }) => ({ method: 'GET', target, headers: [], defects: [], expect: { status: 200, page } }));
  const spellings = path.chain((p) => fc.constantFrom(p, `${p}/`, p.toUpperCase()));
  const badQuery: fc.Arbitrary<Parts> = fc.tuple(spellings, badPageQuery(list)).map(([p, q]) => ({
    method: 'GET',
    target: `${p}?${q.query}`,
    headers: [],
    defects: [q.defect],
    expect: { status: 400, code: 'ValidationFailed', errorPaths: q.errors },
  }));
  return kit.make(endpoint, [[badQuery, 6], validPage, ...pathFamilies], valid, kit.others('GET'), true);
}

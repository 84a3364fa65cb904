/**
 * The paging contract of the lists (`GET /products`, `GET /users/:id/points/ledger`,
 * `GET /users/:id/orders`), as the oracle and the list generators read it: the query is
 * `limit` (decimal digits without sign or leading zero, 1..100) and `cursor` (an opaque
 * token the list wrote), each at most once, and nothing else. A cursor is base64url of
 * the JSON `[<list>, <key of the last item shown>]` and only the exact bytes the list
 * writes count: another list's, a changed key, another spelling of the same JSON, or
 * another base64 spelling of the same bytes are refused (400 `ValidationFailed` at
 * `cursor`). The query is read as Koa reads it (`URLSearchParams`: `+` is a space,
 * percent-encodings decoded, bad UTF-8 as U+FFFD).
 */
import { MAX_INT32 } from './values.ts';

/** The lists, by the name their cursors carry. */
export type ListName = 'products' | 'ledger' | 'orders';

/** Longest cursor a list accepts, in characters. */
export const MAX_CURSOR_LENGTH = 512;

/** Largest `limit`. */
export const MAX_LIMIT = 100;

/** A UUID as the API's schemas take it: RFC 9562 version 1..8 and variant, or the nil and max UUIDs (any case). */
export const RFC_UUID = /^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$/i;

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** The key of each list's cursor: its fields, in the order the list writes them, and what each may hold. */
const CURSOR_KEYS: Record<ListName, Record<string, (value: unknown) => boolean>> = {
  // The id of the last product shown (by id ascending).
  products: { id: (v) => isInt(v, 1, MAX_INT32) },
  // The ledger id of the last movement shown (by id descending).
  ledger: { id: (v) => isInt(v, 1, Number.MAX_SAFE_INTEGER) },
  // Creation time in epoch microseconds and id of the last order shown (newest first).
  orders: { createdAtUs: (v) => isInt(v, 0, Number.MAX_SAFE_INTEGER), id: (v) => typeof v === 'string' && RFC_UUID.test(v) },
};

/** The fields of `list`'s cursor key, in the order it writes them. */
export const cursorFields = (list: ListName): string[] => Object.keys(CURSOR_KEYS[list]);

/** The cursor `list` writes for `key`: base64url of `[list, key]` as `JSON.stringify` writes it. */
export function encodeCursor(list: string, key: unknown): string {
  return Buffer.from(JSON.stringify([list, key])).toString('base64url');
}

/** Whether `limit` is a value the lists accept. */
export function limitAccepted(limit: string): boolean {
  return /^[1-9][0-9]{0,2}$/.test(limit) && Number(limit) <= MAX_LIMIT;
}

/** Whether `cursor` is one `list` wrote, byte for byte. */
export function cursorAccepted(list: ListName, cursor: string): boolean {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return false;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  if (!Array.isArray(json) || json.length !== 2 || json[0] !== list) return false;
  const key: unknown = json[1];
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
  const fields = CURSOR_KEYS[list];
  const record = key as Record<string, unknown>;
  const names = Object.keys(record);
  if (names.length !== Object.keys(fields).length || !names.every((name) => Object.hasOwn(fields, name) && fields[name]!(record[name]))) return false;
  // The key as the list would write it: its fields in order.
  return encodeCursor(list, Object.fromEntries(Object.keys(fields).map((name) => [name, record[name]]))) === cursor;
}

/**
 * The error paths a list answers the query `query` (without `?`) with: `limit` or
 * `cursor` when that parameter is bad or repeated, the name of each unknown parameter.
 * Empty when the query is accepted.
 */
export function pageQueryErrors(list: ListName, query: string): string[] {
  const params = new URLSearchParams(query);
  const errors: string[] = [];
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    if (name === 'limit') {
      if (values.length !== 1 || !limitAccepted(values[0]!)) errors.push(name);
    } else if (name === 'cursor') {
      if (values.length !== 1 || !cursorAccepted(list, values[0]!)) errors.push(name);
    } else {
      errors.push(name);
    }
  }
  return errors.sort();
}

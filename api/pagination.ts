/**
 * Keyset pagination, the same for every list of the API (`GET /products`,
 * `GET /users/:id/points/ledger`, `GET /users/:id/orders`).
 *
 * A list takes `?limit=` (1..100, default 20) and `?cursor=`, and answers the envelope
 * `{ "items": [...], "next": "/products?limit=20&cursor=..." | null }`: `next` is the
 * path of the following page with the same limit, null on the last page. A cursor is
 * opaque to clients: base64url of the JSON `[<list>, <key of the last item shown>]`, so
 * the next page starts strictly after that key (rows inserted meanwhile neither shift nor
 * repeat items, unlike an offset). A cursor that is not one this list wrote, byte for
 * byte (bad base64url, bad JSON, another list's, a changed key), is a 400 ValidationFailed.
 */
import { z } from 'zod';
import { ApiPath } from './schemas.ts';

/** Items per page when `limit` is not given. */
export const DEFAULT_PAGE_LIMIT = 20;

/** Largest `limit` a list accepts. */
export const MAX_PAGE_LIMIT = 100;

/** Longest `cursor` accepted, in characters: far above any key of ours. */
const MAX_CURSOR_LENGTH = 512;

/** The `limit` query parameter: decimal digits without sign or leading zero, 1..100. */
const limitParam = z
  .string()
  .regex(/^[1-9][0-9]{0,2}$/, `must be an integer from 1 to ${MAX_PAGE_LIMIT}`)
  .transform(Number)
  .pipe(z.number().max(MAX_PAGE_LIMIT, `must be an integer from 1 to ${MAX_PAGE_LIMIT}`))
  .optional()
  .default(DEFAULT_PAGE_LIMIT)
  .meta({
    description: `Items per page, 1..${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT}).`,
    // A query value is text; the document shows what the text must spell.
    override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
      for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
      Object.assign(jsonSchema, { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT });
    },
  });

/** How a list's cursor is written and read back. */
export interface CursorCodec<Key> {
  /** The list's name, the first element of each of its cursors. */
  readonly list: string;
  /** The cursor of a page that starts after `key`. */
  encode(key: Key): string;
  /**
   * The key in `cursor`.
   * @returns undefined when `cursor` is not one {@link encode} wrote for this list.
   */
  decode(cursor: string): Key | undefined;
}

/**
 * The cursor codec of list `list`, whose keys `key` validates (use strict objects: a
 * cursor must decode to exactly what was encoded).
 */
export function cursorCodec<Key>(list: string, key: z.ZodType<Key>): CursorCodec<Key> {
  const payload = z.tuple([z.literal(list), key]);
  const encode = (k: Key) => Buffer.from(JSON.stringify([list, k])).toString('base64url');
  return {
    list,
    encode,
    decode(cursor) {
      if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      const parsed = payload.safeParse(json);
      // Only the exact bytes we wrote: another spelling of the same JSON is not ours.
      if (!parsed.success || encode(parsed.data[1]) !== cursor) return undefined;
      return parsed.data[1];
    },
  };
}

/**
 * The query schema of a list: `limit` (default {@link DEFAULT_PAGE_LIMIT}) and an
 * optional `cursor`, decoded to the key it carries; unknown parameters are refused.
 * Parsing fails (400 ValidationFailed) at `limit` or `cursor` when one is bad.
 */
export function pageQuery<Key>(codec: CursorCodec<Key>) {
  return z.strictObject({
    limit: limitParam,
    cursor: z
      .string()
      .transform((cursor, ctx) => {
        const key = codec.decode(cursor);
        if (key === undefined) {
          ctx.addIssue({ code: 'custom', message: 'is not a cursor of this list; use the `next` link of a page' });
          return z.NEVER;
        }
        return key;
      })
      .optional()
      .meta({
        description: 'Opaque position from the `next` link of the previous page; omit it for the first page.',
        override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
          Object.assign(jsonSchema, { maxLength: MAX_CURSOR_LENGTH, pattern: '^[A-Za-z0-9_-]+$' });
        },
      }),
  });
}

/** A page of a list: its items and the path of the next page (null on the last page). */
export interface Page<Item> {
  items: Item[];
  next: string | null;
}

/**
 * The page of `rows`, read with a limit of `limit + 1`: the first `limit` rows as items,
 * and, when the extra row shows there are more, `next` pointing after the last item.
 *
 * @param path the list's path without query (`/users/7/orders`)
 * @param keyOf the cursor key of a row: the columns the list is ordered by
 */
export function toPage<Row, Item, Key>(
  rows: readonly Row[],
  options: { limit: number; path: string; codec: CursorCodec<Key>; keyOf: (row: Row) => Key; item: (row: Row) => Item },
): Page<Item> {
  const { limit, path, codec, keyOf, item } = options;
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  const next = rows.length > limit && last !== undefined ? nextLink(path, limit, codec.encode(keyOf(last))) : null;
  return { items: shown.map(item), next };
}

/** The path of the page after `cursor`, with the same `limit`: `<path>?limit=<limit>&cursor=<cursor>`. */
export function nextLink(path: string, limit: number, cursor: string): string {
  // base64url needs no escaping in a query.
  return `${path}?limit=${limit}&cursor=${cursor}`;
}

/**
 * The schema of a page of `item`s: `{ items, next }`, registered as component `meta.id`.
 */
export function pageSchema<Item extends z.ZodType>(item: Item, meta: { id: string; description: string }) {
  return z
    .object({
      items: z.array(item).meta({ description: `At most \`limit\` items; empty when there are none.` }),
      next: ApiPath.nullable().meta({
        description: 'Path of the next page (same `limit`, the cursor after the last item); null on the last page.',
        examples: ['/products?limit=20&cursor=WyJwcm9kdWN0cyIseyJpZCI6MjB9XQ'],
      }),
    })
    .meta(meta);
}

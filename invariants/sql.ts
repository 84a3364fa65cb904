/**
 * The few SQL helpers the checks are written with: a tagged template that keeps values as
 * `?` parameters, a scope filter, and the union of both kinds of saga.
 */
import type { EntityManager } from '@mikro-orm/postgresql';

/** A SQL text with `?` placeholders and their values, in order. */
export interface Fragment {
  text: string;
  params: unknown[];
}

function isFragment(value: unknown): value is Fragment {
  return typeof value === 'object' && value !== null && 'text' in value && 'params' in value && Array.isArray((value as Fragment).params);
}

/** Tagged template: interpolated fragments are inlined, every other value becomes a `?` parameter. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Fragment {
  let text = strings[0]!;
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (isFragment(value)) {
      text += value.text;
      params.push(...value.params);
    } else {
      text += '?';
      params.push(value);
    }
    text += strings[i + 1]!;
  });
  return { text, params };
}

/** SQL text without parameters (never built from input). */
export function raw(text: string): Fragment {
  return { text, params: [] };
}

/** Runs `query` in `em`'s transaction and returns its rows. */
export function rows<Row extends object>(em: EntityManager, query: Fragment): Promise<Row[]> {
  return em.execute<Row[]>(query.text, query.params as never[], 'all');
}

/**
 * Whether table `name` exists: a database migrated only part of the way (a migration's own
 * test) lacks the newer tables, and a query naming one would abort the check's transaction.
 */
export async function tableExists(em: EntityManager, name: string): Promise<boolean> {
  const [row] = await rows<{ present: boolean }>(em, sql`select to_regclass(${name}) is not null as present`);
  return row?.present ?? false;
}

/** `values` as a JSON array, for `jsonb_array_elements_text(?::jsonb)`. */
export function json(values: readonly unknown[]): string {
  return JSON.stringify(values);
}

/** `values` without repeats, in first-seen order. */
export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** `column` is one of `ids` (`type`: its SQL type), or `true` when unscoped. */
export function within(column: string, ids: readonly (string | number)[] | undefined, type: 'int' | 'uuid' | 'text'): Fragment {
  if (ids === undefined) return raw('true');
  const cast = type === 'text' ? '' : `::${type}`;
  return { text: `${column} in (select jsonb_array_elements_text(?::jsonb)${cast})`, params: [json(ids)] };
}

/**
 * The orders matching `orders` and the reservations matching `reservations` as one
 * relation of `(kind, id, status, workflow_id)`, `kind` being `'order'` or `'reservation'`
 * and `id` text. The conditions are on the bare tables (`id`, `status`, `workflow_id`).
 */
export function sagasWhere(orders: Fragment, reservations: Fragment): Fragment {
  return sql`(select 'order' as kind, id::text as id, status, workflow_id from orders where ${orders}
              union all
              select 'reservation', id::text, status, workflow_id from reservations where ${reservations})`;
}

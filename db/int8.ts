/**
 * How the service reads PostgreSQL `bigint` (int8, OID 20) values: as JavaScript numbers,
 * exact, or not at all.
 *
 * Money is stored in `bigint` columns (balances, ledger amounts, prices and totals, in
 * points or won; see the migration `Migration20261204120000_money_bigint`). The `pg`
 * driver returns int8 as a decimal string by default, because a JS number is exact only
 * up to 2^53 - 1. The business limits (`POINTS_BALANCE_LIMIT`, `ORDER_TOTAL_LIMIT_WON`,
 * at most {@link MAX_MONEY_LIMIT}) keep every amount far below that, so the service reads
 * int8 as a `number` everywhere (entities, raw SQL in activities, API views, invariants,
 * tests), and a value beyond `Number.MAX_SAFE_INTEGER` is an error instead of a silently
 * rounded amount: the query that read it fails (pg rejects it with this parser's error).
 *
 * The parser is registered in `pg`'s global type registry, which every connection of the
 * process falls back to (MikroORM's pool overrides only the date and interval types), so
 * it covers the ORM's pool and any plain `pg.Client` alike. `count(*)` and bigserial ids
 * are int8 too and come back as numbers as well; `sum()` of a bigint column is `numeric`
 * (OID 1700) and stays a string: cast it (`::bigint`) or convert it where it is read.
 */
import pg from 'pg';

/** PostgreSQL's type OID of `bigint` (int8). */
export const INT8_OID = 20;

/**
 * The largest value a business limit on money may take, in points or won: 2^50 (about
 * 1.1e15), so that an amount, a balance plus a top-up, or a total of an order's lines
 * stays below 2^53 and exact as a JS number.
 */
export const MAX_MONEY_LIMIT = 2 ** 50;

/**
 * Parses the text form of an int8 into a number.
 *
 * @throws RangeError when the value is outside ±`Number.MAX_SAFE_INTEGER` (it would be
 *   rounded), naming the value.
 */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`bigint ${text} is beyond Number.MAX_SAFE_INTEGER and cannot be read exactly`);
  }
  return value;
}

/** Registers {@link parseInt8} for int8 in `pg`'s global type registry; idempotent. */
export function installInt8Parser(): void {
  pg.types.setTypeParser(INT8_OID, parseInt8);
}

installInt8Parser();

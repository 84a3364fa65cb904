import { Migration } from '@mikro-orm/migrations';

/**
 * Every money column (balances, ledger amounts, prices, totals; won and points) becomes a
 * 64-bit `bigint`, keeping the data (an in-place type change). A 32-bit `int` overflows at
 * 2,147,483,647: a top-up past it failed with "integer out of range" and was retried
 * forever. The business limits (POINTS_BALANCE_LIMIT, ORDER_TOTAL_LIMIT_WON) keep every
 * amount far below 2^53, so the values stay exact as JavaScript numbers (db/int8.ts).
 */
export const MONEY_COLUMNS: readonly (readonly [table: string, column: string])[] = [
  ['point_accounts', 'balance_points'],
  ['point_ledger', 'amount_points'],
  ['products', 'price_won'],
  ['orders', 'total_won'],
  ['order_lines', 'unit_price_won'],
  ['reservations', 'total_won'],
  ['seats', 'price_won'],
];

export class Migration20261204120000_money_bigint extends Migration {

  override name = 'Migration20261204120000_money_bigint';

  override up(): void | Promise<void> {
    for (const [table, column] of MONEY_COLUMNS) {
      this.addSql(`alter table "${table}" alter column "${column}" type bigint;`);
    }
  }

  override down(): void | Promise<void> {
    // Fails (integer out of range) when an amount no longer fits 32 bits, rather than lose it.
    for (const [table, column] of MONEY_COLUMNS) {
      this.addSql(`alter table "${table}" alter column "${column}" type int;`);
    }
  }

}

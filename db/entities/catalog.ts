/** Inventory and Points bounded contexts: products, users and their point accounts. */
import { defineEntity, p } from '@mikro-orm/core';

/**
 * A product of the catalog. `priceWon` is the unit price in won (a `bigint` column, read
 * as an exact number: db/int8.ts);
 * `stock` is the units available to reserve now (never negative: a CHECK backs the
 * conditional update that reserves it). `initialStock` is the stock baseline of stock
 * conservation: units ever put on sale, so initial = stock + RESERVED (live orders) +
 * COMMITTED (sold); a restock must raise both (see invariants/stock.ts).
 */
export const Product = defineEntity({
  name: 'Product',
  tableName: 'products',
  checks: [
    { name: 'products_stock_non_negative', expression: 'stock >= 0' },
    { name: 'products_price_non_negative', expression: 'price_won >= 0' },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    sku: p.string().length(64).unique(),
    name: p.string().length(200),
    priceWon: p.bigint('number'),
    stock: p.integer(),
    initialStock: p.integer(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

/** A customer. */
export const AppUser = defineEntity({
  name: 'AppUser',
  tableName: 'app_users',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(200),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

/**
 * A user's prepaid point balance (1 point pays 1 won; `bigint`, capped by
 * POINTS_BALANCE_LIMIT for top-ups). The balance is a cache of the
 * {@link PointLedgerEntry} rows, updated in the same transaction as the row it sums.
 */
export const PointAccount = defineEntity({
  name: 'PointAccount',
  tableName: 'point_accounts',
  checks: [{ name: 'point_accounts_balance_non_negative', expression: 'balance_points >= 0' }],
  properties: {
    user: () => p.oneToOne(AppUser).primary().owner(),
    balancePoints: p.bigint('number').default(0),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

/** Kinds of point movement. TOP_UP and REFUND credit the balance, PAYMENT debits it. */
export const LEDGER_KINDS = ['TOP_UP', 'PAYMENT', 'REFUND'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/**
 * Append-only point ledger. `amountPoints` is positive; the kind gives the sign.
 * `reference` is the saga (workflow id) or top-up the movement belongs to; the unique
 * (reference, kind) makes a retried payment or refund a lookup, never a second movement.
 * A REFUND of 0 points is a tombstone: the saga was compensated before any payment, so a
 * late payment attempt of that saga is refused. Indexed by (account, id) for a user's
 * ledger, newest first, keyset-paged.
 */
export const PointLedgerEntry = defineEntity({
  name: 'PointLedgerEntry',
  tableName: 'point_ledger',
  uniques: [{ name: 'point_ledger_reference_kind_unique', properties: ['reference', 'kind'] }],
  indexes: [{ name: 'point_ledger_account_user_id_id_index', properties: ['account', 'id'] }],
  checks: [{ name: 'point_ledger_amount_non_negative', expression: 'amount_points >= 0' }],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    account: () => p.manyToOne(PointAccount),
    kind: p.enum(LEDGER_KINDS),
    amountPoints: p.bigint('number'),
    reference: p.string().length(200),
    idempotencyKey: p.string().length(250).unique(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

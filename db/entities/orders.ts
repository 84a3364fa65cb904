/** Orders bounded context: orders, their lines and the stock reserved for them. */
import { defineEntity, p } from '@mikro-orm/core';
import { AppUser, Product } from './catalog.ts';

export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPENSATION_FAILED'] as const;

/**
 * An order. PENDING is the saga's semantic lock: the order's effects (reserved stock,
 * payment) may still be rolled back. `totalWon` is the sum of its lines in won.
 * `requestHash` fingerprints the request that created it (Idempotency-Key reuse check).
 * Indexed by (user, createdAt, id) for a user's order list, newest first, keyset-paged.
 */
export const Order = defineEntity({
  name: 'Order',
  tableName: 'orders',
  indexes: [{ name: 'orders_user_id_created_at_id_index', properties: ['user', 'createdAt', 'id'] }],
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(AppUser),
    status: p.enum(ORDER_STATUSES).index(),
    totalWon: p.bigint('number'),
    cancellationReason: p.string().length(64).nullable(),
    cancellationMessage: p.text().nullable(),
    workflowId: p.string().length(200).unique(),
    requestHash: p.string().length(64),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
    confirmedAt: p.datetime().nullable(),
    lines: () => p.oneToMany(OrderLine).mappedBy('order'),
  },
});

/** One line of an order: `quantity` units at `unitPriceWon` (price at order time, in won). */
export const OrderLine = defineEntity({
  name: 'OrderLine',
  tableName: 'order_lines',
  uniques: [{ name: 'order_lines_order_product_unique', properties: ['order', 'product'] }],
  checks: [{ name: 'order_lines_quantity_positive', expression: 'quantity > 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    order: () => p.manyToOne(Order),
    product: () => p.manyToOne(Product).index(),
    quantity: p.integer(),
    unitPriceWon: p.bigint('number'),
  },
});

export const STOCK_RESERVATION_STATUSES = ['RESERVED', 'RELEASED', 'COMMITTED'] as const;

/**
 * Stock held for one order line. RESERVED is the semantic lock (units taken from stock
 * but the order may still be cancelled); COMMITTED means sold; RELEASED means returned to
 * stock (or, with quantity 0, a tombstone written by a release that ran before any
 * reservation, so a late reservation of that saga is refused). Unique per (order, product).
 */
export const StockReservation = defineEntity({
  name: 'StockReservation',
  tableName: 'stock_reservations',
  uniques: [{ name: 'stock_reservations_order_product_unique', properties: ['order', 'product'] }],
  checks: [{ name: 'stock_reservations_quantity_non_negative', expression: 'quantity >= 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    order: () => p.manyToOne(Order),
    product: () => p.manyToOne(Product).index(),
    quantity: p.integer(),
    status: p.enum(STOCK_RESERVATION_STATUSES),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

/**
 * Request and response schemas of the order routes (`POST /orders`, `GET /orders/:id`,
 * `POST /orders/:id/compensations/retry`, `GET /users/:id/orders`). The TypeScript types
 * of the bodies are inferred from them, so the OpenAPI document and the code cannot drift.
 */
import { z } from 'zod';
import { cursorCodec, pageQuery, pageSchema } from '../pagination.ts';
import { EventViewSchema } from '../event-view.ts';
import { PaymentViewSchema } from '../payment-view.ts';
import { Instant, SelfLinks, pendingSagaSchema, sagaIdParams, sagaProgressSchema } from '../schemas.ts';
import { distinctBy, entityId } from '../validation.ts';

/** Path parameters `{ id }` of an order route: a UUID, lower-cased (workflow ids are case-sensitive). */
export const OrderIdParams = sagaIdParams('order');

/** One requested line: `quantity` units (integer 1..1000) of product `productId`. */
const OrderItemSchema = z.strictObject({
  productId: entityId,
  quantity: z.number().int().min(1).max(1000).meta({ description: 'Units of the product, 1..1000.' }),
});

/** Body of `POST /orders`: a user and 1..50 lines with distinct product ids. */
export const CreateOrderBody = z
  .strictObject({
    userId: entityId.optional().meta({ description: 'The user who pays, with points: always the caller (the token\'s subject). Optional; when given it must be the caller\'s id, else 403 `Forbidden`.' }),
    items: z
      .array(OrderItemSchema)
      .min(1)
      .max(50)
      .superRefine(distinctBy('items', (item) => item.productId, 'productId'))
      .meta({ description: '1..50 lines, each product at most once.' }),
    couponId: entityId
      .optional()
      .meta({ description: 'One of the caller\'s coupons (`GET /users/{id}/coupons`) to use on this order: the discount comes off the total charged. Refused by the saga (the order is cancelled, 422) when it does not exist, is another user\'s, is used or reserved by another order, is outside its campaign\'s window, or the subtotal is below its minimum.' }),
  })
  .meta({ id: 'CreateOrder', description: 'An order: the user who pays and the products and quantities to buy.' });

/** A validated `POST /orders` body. */
export type CreateOrderRequest = z.output<typeof CreateOrderBody>;

/** Business status of an order (common/orders.ts `OrderStatus`). */
export const OrderStatusSchema = z
  .enum(['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPENSATION_FAILED'])
  .meta({
    id: 'OrderStatus',
    description:
      'PENDING while the saga runs (stock may be reserved, points may be charged); CONFIRMED: paid and sold; CANCELLED: undone, `reason` says why; COMPENSATION_FAILED: an undo step failed for good, an operator has to act.',
  });

/** Saga progress of an order checkout, as its `orderProgress` Query answers it. */
export const OrderProgressSchema = sagaProgressSchema(OrderStatusSchema).meta({
  id: 'OrderSagaProgress',
  description: 'Live progress of the checkout saga: its steps and compensations as the workflow recorded them.',
});

/**
 * The pricing members of an order view and summary, in won: the subtotal (the lines), the
 * coupon's discount and the coupon. Null in a view while the saga has not written the order.
 */
const PricingMembers = {
  subtotalWon: z.number().int().nonnegative().nullable().meta({ description: 'Sum of the lines at order-time prices, in won.' }),
  discountWon: z
    .number()
    .int()
    .nonnegative()
    .nullable()
    .meta({ description: 'The coupon\'s discount, in won: 0 without a coupon, and until the coupon is reserved; never above the subtotal.' }),
  couponId: entityId.nullable().meta({ description: 'The coupon the order uses (or, when cancelled, tried to use); null without one.' }),
};

/** One order line: `quantity` units at `unitPriceWon` won; `lineTotalWon` = quantity x unit price. */
export const OrderLineViewSchema = z
  .object({
    productId: entityId,
    quantity: z.number().int().min(1),
    unitPriceWon: z.number().int().nonnegative().meta({ description: 'Unit price at order time, in won.' }),
    lineTotalWon: z.number().int().nonnegative().meta({ description: 'quantity x unitPriceWon, in won.' }),
  })
  .meta({ id: 'OrderLine', description: 'One line of an order, ordered by product id.' });

/** One order line of the view. */
export type OrderLineView = z.output<typeof OrderLineViewSchema>;

/**
 * An order as the API shows it. Amounts in won; timestamps ISO 8601 UTC. `reason` and
 * `message` say why a CANCELLED or COMPENSATION_FAILED order ended so. `saga` is the
 * workflow's progress, or null when the workflow cannot be queried (gone or unreachable).
 * An order whose saga has started but not yet written its row is PENDING with
 * `userId`, `totalWon`, `createdAt` null and no lines.
 */
export const OrderViewSchema = z
  .object({
    orderId: z.uuid(),
    userId: entityId.nullable().meta({ description: 'Null while the saga has not written the order yet.' }),
    status: OrderStatusSchema,
    totalWon: z.number().int().nonnegative().nullable().meta({ description: 'What is charged, in won (1 point pays 1 won): `subtotalWon` - `discountWon`.' }),
    ...PricingMembers,
    reason: z.string().nullable().meta({ description: 'Why the order was cancelled: a failure type such as `OutOfStock`.' }),
    message: z.string().nullable().meta({ description: 'Human explanation of `reason`.' }),
    lines: z.array(OrderLineViewSchema),
    createdAt: Instant.nullable(),
    confirmedAt: Instant.nullable(),
    payment: PaymentViewSchema.nullable().meta({ description: 'The order\'s payment (method, status, amount, when paid and refunded); null while nothing was paid.' }),
    event: EventViewSchema.nullable().meta({ description: 'The `order.confirmed` event for the data platform and its delivery state; null until the order is confirmed.' }),
    saga: OrderProgressSchema.nullable().meta({ description: 'Live saga progress; null when the workflow cannot be queried.' }),
  })
  .meta({ id: 'Order', description: 'An order with its lines and the live progress of its checkout saga. Amounts in won.' });

/** An order as the API shows it (see {@link OrderViewSchema}). */
export type OrderView = z.output<typeof OrderViewSchema>;

/** Answer of `POST /orders` while the outcome is not known yet (202). */
export const PendingOrderSchema = pendingSagaSchema('orderId').meta({
  id: 'PendingOrder',
  description: 'The saga runs but its outcome is not known yet: read `links.self`, or repeat the request with the same Idempotency-Key.',
});

/** Answer of `POST /orders` while the outcome is not known yet (202). */
export type PendingOrderBody = z.output<typeof PendingOrderSchema>;

/** One order of a user's order list: what it is without its lines and saga. */
export const OrderSummarySchema = z
  .object({
    orderId: z.uuid(),
    status: OrderStatusSchema,
    totalWon: z.number().int().nonnegative().meta({ description: 'What is charged, in won: `subtotalWon` - `discountWon`.' }),
    subtotalWon: z.number().int().nonnegative().meta({ description: 'Sum of the lines at order-time prices, in won.' }),
    discountWon: z.number().int().nonnegative().meta({ description: 'The coupon\'s discount, in won (0 without one).' }),
    couponId: entityId.nullable().meta({ description: 'The coupon the order uses, or null.' }),
    createdAt: Instant,
    links: SelfLinks,
  })
  .meta({ id: 'OrderSummary', description: 'An order of a user\'s order list; `links.self` has its lines and saga progress.' });

/** One item of `GET /users/:id/orders`. */
export type OrderSummary = z.output<typeof OrderSummarySchema>;

/** Body of `GET /users/:id/orders`: a page of the user's orders, newest first. */
export const OrderPageSchema = pageSchema(OrderSummarySchema, {
  id: 'OrderPage',
  description: 'A page of a user\'s orders, newest first (by creation time, then id).',
});

/** Body of `GET /users/:id/orders`. */
export type OrderPage = z.output<typeof OrderPageSchema>;

/**
 * Cursor of `GET /users/:id/orders`: the creation time (epoch microseconds, the column's
 * full precision, so no two rows share a key by rounding) and id of the last order shown.
 */
export const orderCursor = cursorCodec(
  'orders',
  z.strictObject({ createdAtUs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), id: z.uuid() }),
);

/** Query of `GET /users/:id/orders`: `limit` and `cursor` (api/pagination.ts). */
export const ListUserOrdersQuery = pageQuery(orderCursor);

/** The documented order routes (handlers: orders/routes.ts). */
import { CreateOrderBody, ListUserOrdersQuery, OrderIdParams, OrderPageSchema, OrderViewSchema, PendingOrderSchema } from './schemas.ts';
import { IdempotencyKeyParam, JSON_BODY_PROBLEMS, LocationHeader, idParams, jsonAnswer, jsonBody, pagedListRoute, readRoute, route, type DocumentedRoute } from '../openapi/operation.ts';

/** The order routes. */
export const orderRoutes: DocumentedRoute[] = [
  route('post', '/orders', {
    access: 'user',
    operationId: 'createOrder',
    tag: 'Orders',
    summary: 'Place an order and pay it with points',
    description: [
      'Starts (or, with the same `Idempotency-Key`, rejoins) the checkout saga: reserve stock, reserve the coupon when the body names one (`couponId`: the discount comes off the total), pay the total with points, confirm. It waits up to `ORDER_OUTCOME_WAIT_MS` (5 s by default) for the business outcome.',
      '',
      'A cancelled order is answered as a problem whose `order` member is the order view: nothing stays reserved or charged, and its coupon is available again. A coupon the saga refuses (`CouponNotFound`, `CouponNotOwned`, `CouponAlreadyUsed`, `CouponExpired`, `CouponMinimumNotMet`) cancels the order: 422. A business rejection is a 4xx; an order cancelled by a failure of the service is 500 `UnexpectedError` (its `order.reason` names the failure). Nothing starts on a 4xx before the saga (validation, unknown user or product). A 503 carries `Retry-After`.',
    ].join('\n'),
    headers: [IdempotencyKeyParam],
    requestBody: jsonBody(CreateOrderBody, 'The user and the lines of the order.'),
    answers: {
      201: jsonAnswer(OrderViewSchema, 'The order is CONFIRMED: stock sold, points charged.', { Location: LocationHeader }),
      202: jsonAnswer(PendingOrderSchema, 'The saga runs but its outcome is not known within the wait: read `links.self`.', { Location: LocationHeader }),
    },
    problems: {
      403: ['Forbidden'],
      ...JSON_BODY_PROBLEMS,
      409: [
        'OutOfStock',
        'OrderTooLarge',
        'UnknownProduct',
        'UnknownUser',
        'SagaAlreadyCompensated',
        'Cancelled',
        'OrderCancelled',
        'CompensationFailed',
        'AlreadyStarted',
      ],
      422: [
        'UnknownUser',
        'UnknownProduct',
        'OrderTooLarge',
        'InsufficientPoints',
        'CouponNotFound',
        'CouponNotOwned',
        'CouponAlreadyUsed',
        'CouponExpired',
        'CouponMinimumNotMet',
        'IdempotencyKeyReused',
      ],
      500: ['UnexpectedError'],
      503: ['TemporalUnavailable'],
    },
  }),

  readRoute('/orders/:id', OrderIdParams, {
    access: 'user',
    operationId: 'getOrder',
    tag: 'Orders',
    summary: 'Read an order with its saga progress',
    description:
      'An order whose saga has started but not written its row yet is PENDING with `userId`, `totalWon` and `createdAt` null. A confirmed order shows its `order.confirmed` event for the data platform under `event`: PENDING in the outbox until the relay delivers it, then DELIVERED (or FAILED when the platform refused it).',
    schema: OrderViewSchema,
    answer: 'The order.',
    problems: { 503: ['TemporalUnavailable'] },
  }),

  route('post', '/orders/:id/compensations/retry', {
    access: 'operator',
    operationId: 'retryOrderCompensations',
    tag: 'Operations',
    summary: 'Re-run the failed compensations of an order (operator)',
    description:
      'For an order parked in COMPENSATION_FAILED after the operator fixed the cause: runs its failed compensations again through the saga\'s `retryCompensations` Update. A second call while a retry runs is refused (409 `CompensationRetryInProgress`), so repeating the request is safe. Changes money and stock: deploy it behind operator authentication. Takes no body.',
    params: { path: OrderIdParams },
    answers: {
      200: jsonAnswer(OrderViewSchema, 'Every compensation succeeded now: the order is CANCELLED.'),
      202: jsonAnswer(OrderViewSchema, 'The retry still runs after `ORDER_OUTCOME_WAIT_MS`; the order as it is now.'),
    },
    problems: {
      400: ['ValidationFailed'],
      404: ['NotFound'],
      409: ['CompensationFailed', 'NotCompensationFailed', 'CompensationRetryInProgress'],
      503: ['TemporalUnavailable'],
    },
  }),

  pagedListRoute(
    '/users/:id/orders',
    ListUserOrdersQuery,
    {
      access: 'user',
      operationId: 'listUserOrders',
      tag: 'Orders',
      summary: 'List a user\'s orders, newest first',
      description:
        'The user\'s orders by creation time then id, newest first, as summaries linking to each order; paged by `limit` and `cursor` (follow `next`). Orders whose saga has not written their row yet are not listed.',
      schema: OrderPageSchema,
      answer: 'A page of the user\'s orders.',
    },
    idParams('The user id.'),
  ),
];

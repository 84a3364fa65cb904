/**
 * The SQL that finds what no live saga explains, in one place for its two readers: the
 * reconciliation activities (activities/reconciliation.ts), which close orphaned sagas
 * and report stray effects, and the invariant checker (invariants/), which reports both
 * as violations. Both read the same rows, so a run of `reconcileSagas` repairs exactly
 * what `npm run check:invariants` calls an orphan.
 *
 * Each function returns a query with `?` placeholders and its values in order; `where`
 * narrows it (the checker's scope), `limit` bounds it (null: every row). Read-only.
 */

/** A SQL text with `?` placeholders and their values, in order. */
export interface SqlQuery {
  text: string;
  params: unknown[];
}

const EVERY_ROW: SqlQuery = { text: 'true', params: [] };

/** A PENDING order past its deadline, as {@link pendingOrdersPastDeadline} returns it. */
export interface PendingOrderRow {
  id: string;
  user_id: number;
  workflow_id: string;
  /** The order's lines, by product id. */
  lines: { productId: number; quantity: number }[];
  /** The coupon the order's redemption names (RESERVED, or a tombstone), or null without one. */
  coupon_id: number | null;
}

/**
 * PENDING orders created more than `graceMs` ms ago, oldest first, with their lines and
 * the coupon of their redemption, if any.
 * `where` may name the orders' alias `o`.
 */
export function pendingOrdersPastDeadline(graceMs: number, where: SqlQuery = EVERY_ROW, limit: number | null = null): SqlQuery {
  return {
    text: `select o.id, o.user_id, o.workflow_id,
                  coalesce((select json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity) order by l.product_id)
                            from order_lines l where l.order_id = o.id), '[]'::json) as lines,
                  (select cr.coupon_id from coupon_redemptions cr where cr.order_id = o.id) as coupon_id
           from orders o
           where o.status = 'PENDING' and o.created_at < now() - ?::double precision * interval '1 millisecond' and (${where.text})
           order by o.created_at, o.id
           limit ?`,
    params: [graceMs, ...where.params, limit],
  };
}

/** A PENDING reservation past its deadline, as {@link pendingReservationsPastDeadline} returns it. */
export interface PendingReservationRow {
  id: string;
  user_id: number;
  workflow_id: string;
}

/**
 * PENDING reservations whose hold expired more than `graceMs` ms ago, oldest hold first.
 * `where` may name the reservations' alias `r`.
 */
export function pendingReservationsPastDeadline(graceMs: number, where: SqlQuery = EVERY_ROW, limit: number | null = null): SqlQuery {
  return {
    text: `select r.id, r.user_id, r.workflow_id
           from reservations r
           where r.status = 'PENDING' and r.hold_expires_at < now() - ?::double precision * interval '1 millisecond' and (${where.text})
           order by r.hold_expires_at, r.id
           limit ?`,
    params: [graceMs, ...where.params, limit],
  };
}

/** A stock line whose order's status does not explain it, as {@link unexplainedStockLines} returns it. */
export interface UnexplainedStockLineRow {
  order_id: string;
  product_id: number;
  line_status: 'RESERVED' | 'COMMITTED';
  quantity: number;
  order_status: string;
}

/**
 * Stock lines RESERVED by an order that is not PENDING, or COMMITTED by one that is not
 * CONFIRMED (those of a COMPENSATION_FAILED order among them). `where` may name the
 * lines' alias `r` and the orders' alias `o`.
 */
export function unexplainedStockLines(where: SqlQuery = EVERY_ROW, limit: number | null = null): SqlQuery {
  return {
    text: `select r.order_id, r.product_id, r.status as line_status, r.quantity, o.status as order_status
           from stock_reservations r join orders o on o.id = r.order_id
           where (${where.text})
             and ((r.status = 'RESERVED' and o.status <> 'PENDING') or (r.status = 'COMMITTED' and o.status <> 'CONFIRMED'))
           order by r.order_id, r.product_id
           limit ?`,
    params: [...where.params, limit],
  };
}

/** A seat whose holder does not explain it, as {@link unexplainedSeats} returns it. */
export interface UnexplainedSeatRow {
  id: number;
  status: 'HELD' | 'RESERVED';
  /** Never null: check `seats_holder_consistent` gives every HELD or RESERVED seat a holder id. */
  reservation_id: string;
  /** Null when no reservation has that id. */
  reservation_status: string | null;
  /** Whether the holder lists the seat (null without a holder). */
  listed: boolean | null;
}

/**
 * Seats HELD but not by a PENDING reservation that lists them, or RESERVED but not by a
 * CONFIRMED one that lists them (those of a COMPENSATION_FAILED reservation among them).
 * `where` may name the seats' alias `s`.
 */
export function unexplainedSeats(where: SqlQuery = EVERY_ROW, limit: number | null = null): SqlQuery {
  return {
    text: `select s.id, s.status, s.reservation_id, res.status as reservation_status, res.seat_ids @> to_jsonb(s.id) as listed
           from seats s left join reservations res on res.id = s.reservation_id
           where s.status <> 'AVAILABLE'
             and (${where.text})
             and not coalesce((s.status = 'HELD' and res.status = 'PENDING' and res.seat_ids @> to_jsonb(s.id))
                           or (s.status = 'RESERVED' and res.status = 'CONFIRMED' and res.seat_ids @> to_jsonb(s.id)), false)
           order by s.id
           limit ?`,
    params: [...where.params, limit],
  };
}

/** A PAYMENT not refunded in full, with the saga it references, as {@link unrefundedPayments} returns it. */
export interface UnrefundedPaymentRow {
  ledger_id: string;
  user_id: number;
  reference: string;
  amount_points: number;
  refunded: number | null;
  order_id: string | null;
  order_status: string | null;
  order_user: number | null;
  reservation_id: string | null;
  reservation_status: string | null;
  reservation_user: number | null;
}

/**
 * PAYMENT ledger rows without a REFUND of the same amount, each with the order or
 * reservation whose workflow id it references (all null when none does). `where` may
 * name the payment's alias `p`; `sagaNotLive` keeps only the rows whose saga is neither
 * PENDING, CONFIRMED nor COMPENSATION_FAILED (or missing): the ones no live saga explains.
 */
export function unrefundedPayments(where: SqlQuery = EVERY_ROW, options: { sagaNotLive?: boolean; limit?: number | null } = {}): SqlQuery {
  const notLive = options.sagaNotLive
    ? `and coalesce(o.status, s.status, 'NONE') not in ('PENDING', 'CONFIRMED', 'COMPENSATION_FAILED')`
    : '';
  return {
    text: `select p.id::text as ledger_id, p.account_user_id as user_id, p.reference, p.amount_points, r.amount_points as refunded,
                  o.id as order_id, o.status as order_status, o.user_id as order_user,
                  s.id as reservation_id, s.status as reservation_status, s.user_id as reservation_user
           from point_ledger p
           left join point_ledger r on r.reference = p.reference and r.kind = 'REFUND'
           left join orders o on o.workflow_id = p.reference
           left join reservations s on s.workflow_id = p.reference
           where p.kind = 'PAYMENT' and (${where.text})
             and r.amount_points is distinct from p.amount_points ${notLive}
           order by p.id
           limit ?`,
    params: [...where.params, options.limit ?? null],
  };
}

/** A CONFIRMED saga without its outbox event, as {@link confirmedSagasWithoutEvent} returns it. */
export interface SagaWithoutEventRow {
  event_id: string;
  saga_id: string;
  event_type: string;
  /** The event's payload, as the pivot writes it (activities/pivots.ts `writeOutboxEvent`). */
  payload: Record<string, unknown>;
  /** When the saga was confirmed: the pivot's transaction time, which the pivot writes as `occurred_at`. */
  occurred_at: string;
}

/**
 * CONFIRMED orders and reservations confirmed more than `graceMs` ms ago (and, with
 * `lookbackMs`, less than that long ago) that have no outbox event
 * (`data_platform_deliveries` row with their event id `<workflowId>:confirmed`,
 * common/ids.ts `confirmedEventId`), oldest first, each with the event the pivot would
 * have written: type `order.confirmed`, payload `{ orderId, userId, subtotalWon,
 * discountWon, couponId, totalWon, lines: [{ productId, quantity, unitPriceWon }] }` by
 * product id, or type `reservation.confirmed`, payload `{ reservationId, userId, performanceId,
 * seatIds, totalWon }`; `occurred_at` is `confirmed_at`. Such a saga was confirmed by a
 * worker of code older than the outbox during a rolling deploy (its pivot wrote no event,
 * and the saga, being new, never calls `notifyDataPlatform`). The window reads the partial
 * indexes on `confirmed_at`. `whereOrders` may name the orders' alias `o`,
 * `whereReservations` the reservations' alias `r`. Read-only.
 */
export function confirmedSagasWithoutEvent(
  graceMs: number,
  lookbackMs: number | null,
  limit: number | null = null,
  whereOrders: SqlQuery = EVERY_ROW,
  whereReservations: SqlQuery = EVERY_ROW,
): SqlQuery {
  const window = `< now() - ?::double precision * interval '1 millisecond'
                  and (?::double precision is null or %s >= now() - ?::double precision * interval '1 millisecond')`;
  return {
    text: `select * from (
             select o.workflow_id || ':confirmed' as event_id, o.workflow_id as saga_id, 'order.confirmed' as event_type,
                    jsonb_build_object('orderId', o.id, 'userId', o.user_id, 'subtotalWon', coalesce(o.subtotal_won, o.total_won),
                      'discountWon', o.discount_won, 'couponId', o.coupon_id, 'totalWon', o.total_won,
                      'lines', coalesce((select jsonb_agg(jsonb_build_object('productId', l.product_id, 'quantity', l.quantity, 'unitPriceWon', l.unit_price_won)
                                                          order by l.product_id)
                                         from order_lines l where l.order_id = o.id), '[]'::jsonb)) as payload,
                    o.confirmed_at as occurred_at
             from orders o
             where o.status = 'CONFIRMED' and o.confirmed_at ${window.replace('%s', 'o.confirmed_at')} and (${whereOrders.text})
               -- A primary-key probe per saga of the window, never a scan of the whole outbox.
               and (select true from data_platform_deliveries d where d.event_id = o.workflow_id || ':confirmed') is null
             union all
             select r.workflow_id || ':confirmed', r.workflow_id, 'reservation.confirmed',
                    jsonb_build_object('reservationId', r.id, 'userId', r.user_id, 'performanceId', r.performance_id,
                      'seatIds', r.seat_ids, 'totalWon', r.total_won),
                    r.confirmed_at
             from reservations r
             where r.status = 'CONFIRMED' and r.confirmed_at ${window.replace('%s', 'r.confirmed_at')} and (${whereReservations.text})
               and (select true from data_platform_deliveries d where d.event_id = r.workflow_id || ':confirmed') is null
           ) missing
           order by occurred_at, event_id
           limit ?`,
    params: [
      graceMs, lookbackMs, lookbackMs, ...whereOrders.params,
      graceMs, lookbackMs, lookbackMs, ...whereReservations.params,
      limit,
    ],
  };
}

/**
 * The pivots of the two sagas: `confirmOrder` and `confirmReservation`. Every other
 * activity reads and writes the tables of one bounded context only (see
 * test/unit/table-ownership.test.ts); a pivot is the one step where a transaction spans
 * contexts, by design (docs/architecture.md, "The pivot"): it checks that every effect
 * of the saga is in place and makes them final in one local transaction, so that after
 * it commits the saga has nothing left to undo, and before it commits a compensation can
 * still undo everything. Splitting it into one step per context would let a saga end
 * half confirmed (order CONFIRMED, stock still RESERVED) or be confirmed and compensated
 * at once.
 *
 * Tables each pivot touches, by context:
 * - `confirmOrder`: Orders `orders` (locked `FOR UPDATE`, PENDING -> CONFIRMED, with its
 *   pricing: subtotal, discount, coupon, total) and `order_lines` (counted); Inventory
 *   `stock_reservations` (the order's rows locked `FOR UPDATE`, RESERVED -> COMMITTED);
 *   Points `point_ledger` (read: one PAYMENT, no REFUND); with a coupon, Coupons'
 *   `coupon_redemptions` (the order's row locked, RESERVED -> USED) and `coupons`
 *   (RESERVED by this order -> USED), through activities/coupons.ts; Data platform
 *   `data_platform_deliveries` (the `order.confirmed` event into the outbox).
 * - `confirmReservation`: Reservations `reservations` (locked, PENDING -> CONFIRMED),
 *   `seats` (locked, HELD -> RESERVED) and `queue_tokens` (the reservation's token ACTIVE
 *   -> EXPIRED); Points `point_ledger` (read: one PAYMENT, no REFUND); Data platform
 *   `data_platform_deliveries` (the `reservation.confirmed` event into the outbox).
 *
 * The outbox: each pivot writes its saga's data-platform event PENDING in the transaction
 * that confirms ({@link writeOutboxEvent}), so an order or reservation is CONFIRMED if and
 * only if its event exists, and the relay (worker/outbox-relay.ts) delivers it; the saga
 * has nothing left to do after its pivot (common/outbox.ts).
 *
 * Concurrency: `confirmOrder` locks the order row, then the order's stock_reservations
 * rows in product-id order, before it checks them. releaseStock (activities/inventory.ts)
 * locks the same rows in the same order before it releases them, so the pivot and the
 * compensation of the stock serialize on Inventory's own rows: whichever commits first,
 * the other sees its result (a released line makes the pivot refuse; a committed line is
 * never released). Neither takes a product row, so they never deadlock with reserveStock.
 * `confirmReservation` locks the reservation row, then its seats in id order, like every
 * seat step (activities/seats.ts).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { QUEUE_SLOT_FREED_CHANNEL } from '../common/queue.ts';
import { FailureType } from '../common/failures.ts';
import { confirmedEventId } from '../common/ids.ts';
import type { OrderStatus } from '../common/orders.ts';
import {
  OUTBOX_CHANNEL, ORDER_CONFIRMED_EVENT, RESERVATION_CONFIRMED_EVENT, type OrderConfirmedPayload, type OutboxPayload, type ReservationConfirmedPayload,
} from '../common/outbox.ts';
import type { ReservationStatus } from '../common/reservations.ts';
import { lockRedemption, useCoupon } from './coupons.ts';
import { lockOrderStatus } from './orders.ts';
import { lockReservation, lockSeats, type SeatsInput } from './seats.ts';
import { businessFailure, inTransaction, sql } from './tx.ts';

/**
 * Input of `confirmOrder`: the order, and the coupon its saga reserved (absent without
 * one, and in sagas started before coupons existed).
 */
export interface ConfirmOrderInput {
  orderId: string;
  couponId?: number;
}

/** Dependencies of the pivot activities. */
export interface PivotDeps {
  orm: Orm;
}

/** Builds the pivot activities of both sagas. */
export function createPivotActivities({ orm }: PivotDeps) {
  return {
    /**
     * Step 4 of the order saga, the pivot: PENDING -> CONFIRMED, and the order's RESERVED
     * stock becomes COMMITTED (sold); with `couponId`, the coupon and the order's
     * redemption become USED. The order gets its pricing: `subtotal_won` (createOrder's
     * total), `discount_won` (the redemption's, 0 without coupon), `coupon_id`, and
     * `total_won` = subtotal - discount, what was charged. In the same transaction the
     * `order.confirmed` event (payload {@link OrderConfirmedPayload}, lines by product id)
     * goes into the outbox, PENDING. Idempotent: a CONFIRMED order (whose event was written
     * with it) is returned as it is. Checks that every effect is in place first: every line
     * RESERVED, one PAYMENT, no REFUND, the coupon RESERVED by this order.
     *
     * @throws SagaAlreadyCompensated (non-retryable) when the order is no longer PENDING
     *   or CONFIRMED, its stock, payment or coupon is missing, or its payment was refunded.
     */
    async confirmOrder({ orderId, couponId }: ConfirmOrderInput): Promise<{ orderId: string; status: OrderStatus }> {
      return inTransaction(orm, async (em) => {
        const status = await lockOrderStatus(em, orderId);
        if (status === 'CONFIRMED') return { orderId, status };
        // Inventory's rows of this order, locked before they are counted: a releaseStock
        // running now either committed already (the count sees RELEASED) or waits for us.
        await sql(em, 'select product_id from stock_reservations where order_id = ? order by product_id for update', [orderId]);
        const [effects] = await sql<{ lines: number; reserved: number; paid: number; refunded: number }>(
          em,
          `select (select count(*)::int from order_lines where order_id = o.id) as lines,
                  (select count(*)::int from stock_reservations where order_id = o.id and status = 'RESERVED') as reserved,
                  (select count(*)::int from point_ledger where reference = o.workflow_id and kind = 'PAYMENT') as paid,
                  (select count(*)::int from point_ledger where reference = o.workflow_id and kind = 'REFUND') as refunded
           from orders o where o.id = ?`,
          [orderId],
        );
        const refused = () => businessFailure(FailureType.SagaAlreadyCompensated, `Order ${orderId} cannot be confirmed`, { orderId, status, effects });
        if (status !== 'PENDING' || !effects || effects.reserved !== effects.lines || effects.paid !== 1 || effects.refunded > 0) {
          throw refused();
        }
        // With a coupon: its redemption, locked (releaseCoupon locks it too), must be RESERVED
        // by this order for that coupon, and coupon and redemption become USED with the order.
        let discountWon = 0;
        if (couponId !== undefined) {
          const redemption = await lockRedemption(em, orderId);
          if (redemption?.status !== 'RESERVED' || redemption.coupon_id !== couponId || !(await useCoupon(em, orderId, couponId))) throw refused();
          discountWon = redemption.discount_won;
        }
        // The reserved stock becomes sold and the order CONFIRMED, priced, in one statement
        // that returns what the event reports (the lines of the order, by product id).
        const [confirmed] = await sql<Omit<OrderConfirmedPayload, 'orderId'> & { workflowId: string }>(
          em,
          `with sold as (
             update stock_reservations set status = 'COMMITTED', updated_at = now() where order_id = ? and status = 'RESERVED'
           )
           update orders set status = 'CONFIRMED', confirmed_at = now(), updated_at = now(),
                             subtotal_won = total_won, discount_won = ?, coupon_id = ?, total_won = total_won - ?
           where id = ?
           returning workflow_id as "workflowId", user_id as "userId", subtotal_won as "subtotalWon", discount_won as "discountWon",
                     coupon_id as "couponId", total_won as "totalWon",
                     (select json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity, 'unitPriceWon', l.unit_price_won)
                                      order by l.product_id)
                      from order_lines l where l.order_id = orders.id) as lines`,
          [orderId, discountWon, couponId ?? null, discountWon, orderId],
        );
        const { workflowId, ...fields } = confirmed!;
        await writeOutboxEvent(em, workflowId, ORDER_CONFIRMED_EVENT, { orderId, ...fields });
        return { orderId, status: 'CONFIRMED' };
      });
    },

    /**
     * The pivot of the reservation saga: seats HELD by this reservation become RESERVED
     * and the reservation CONFIRMED, in one transaction, after checking that the payment
     * exists; the queue token that admitted it ends in the same transaction
     * ({@link expireQueueToken}), and the `reservation.confirmed` event (payload
     * {@link ReservationConfirmedPayload}) goes into the outbox, PENDING. Idempotent: a
     * CONFIRMED reservation (whose event was written with it) is returned as it is.
     *
     * @throws HoldExpired (non-retryable) when any seat is no longer held by this
     *   reservation (its hold expired and another reservation took it); nothing changes.
     * @throws SagaAlreadyCompensated (non-retryable) when the reservation is not paid, or
     *   its payment was refunded.
     */
    async confirmReservation({ reservationId }: SeatsInput): Promise<{ reservationId: string; status: ReservationStatus }> {
      return inTransaction(orm, async (em) => {
        const reservation = await lockReservation(em, reservationId);
        if (reservation.status === 'CONFIRMED') return { reservationId, status: 'CONFIRMED' };
        const seats = await lockSeats(em, reservation.seat_ids);
        const lost = seats.filter((s) => s.reservation_id !== reservationId || s.status !== 'HELD');
        if (reservation.status !== 'PENDING' || lost.length > 0 || reservation.seats_released_at) {
          throw businessFailure(FailureType.HoldExpired, `The hold of reservation ${reservationId} was lost`, {
            reservationId,
            lostSeatIds: lost.map((s) => s.id),
          });
        }
        const ledger = await sql<{ kind: string }>(em, `select kind from point_ledger where reference = ?`, [reservation.workflow_id]);
        const paid = ledger.filter((m) => m.kind === 'PAYMENT');
        if (paid.length !== 1 || ledger.some((m) => m.kind === 'REFUND')) throw businessFailure(FailureType.SagaAlreadyCompensated, `Reservation ${reservationId} is not paid`, { reservationId });
        await sql(em, `update seats set status = 'RESERVED', hold_expires_at = null where id in (?)`, [reservation.seat_ids]);
        const [confirmed] = await sql<Omit<ReservationConfirmedPayload, 'reservationId'>>(
          em,
          `update reservations set status = 'CONFIRMED', confirmed_at = now(), updated_at = now() where id = ?
           returning user_id as "userId", performance_id as "performanceId", seat_ids as "seatIds", total_won as "totalWon"`,
          [reservationId],
        );
        await expireQueueToken(em, reservationId);
        await writeOutboxEvent(em, reservation.workflow_id, RESERVATION_CONFIRMED_EVENT, { reservationId, ...confirmed! });
        return { reservationId, status: 'CONFIRMED' };
      });
    },
  };
}

/**
 * Ends the ACTIVE queue token of the reservation being confirmed (EXPIRED, PAID), in the
 * pivot's transaction, so a CONFIRMED reservation's token is always EXPIRED, and announces
 * the freed slot (NOTIFY `queue_slot_freed`, delivered at commit) to the admission driver
 * (worker/queue-admission.ts). `ended_at` is now, or the token's `active_until` when that
 * passed already. It takes no counter lock: ending a token only lowers the ACTIVE count
 * (db/queue.ts). A no-op for a reservation without a token or whose token already ended.
 */
async function expireQueueToken(em: EntityManager, reservationId: string): Promise<void> {
  const [ended] = await sql<{ performance_id: number }>(
    em,
    `update queue_tokens set status = 'EXPIRED', end_reason = 'PAID', ended_at = least(clock_timestamp(), active_until)
     where id = (select queue_token_id from reservations where id = ?) and status = 'ACTIVE' returning performance_id`,
    [reservationId],
  );
  if (ended) await sql(em, 'select pg_notify(?, ?)', [QUEUE_SLOT_FREED_CHANNEL, String(ended.performance_id)]);
}

/**
 * Writes the data-platform event of saga `sagaId` (a workflow id) into the outbox, in the
 * pivot's transaction: event id {@link confirmedEventId}, `type`, PENDING, no attempts,
 * `occurred_at` the transaction's time (that of `confirmed_at`), due at once; and
 * announces it (NOTIFY {@link OUTBOX_CHANNEL} with the event id, delivered at commit) so
 * the relay wakes. A no-op when the event exists already (no second row, no NOTIFY).
 */
async function writeOutboxEvent(em: EntityManager, sagaId: string, type: string, payload: OutboxPayload): Promise<void> {
  await sql(
    em,
    `with written as (
       insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, occurred_at, next_attempt_at, created_at)
       values (?, ?, ?, 'PENDING', 0, ?::jsonb, now(), now(), now())
       on conflict (event_id) do nothing
       returning event_id
     )
     select pg_notify(?, event_id) from written`,
    [confirmedEventId(sagaId), sagaId, type, JSON.stringify(payload), OUTBOX_CHANNEL],
  );
}

/**
 * Coupons bounded context, the order saga's side: reserving a user's coupon for an order
 * and pricing the order (`reserveCoupon`), and giving it back (`releaseCoupon`). The
 * pivot (pivots.ts) turns the reservation USED through {@link lockRedemption} and
 * {@link useCoupon}, within its own transaction.
 *
 * Tables: `coupons` (the issued coupon: AVAILABLE, RESERVED or USED, with the order that
 * reserved or used it), `coupon_campaigns` (read: the discount, the minimum order, the
 * validity window) and `coupon_redemptions` (one row per order, primary key order_id:
 * RESERVED, RELEASED or USED, with the subtotal and the discount). The order's subtotal
 * comes in the input (createOrder's total); Coupons reads no table of Orders.
 *
 * Concurrency. Orders using one coupon serialize on the coupon row, locked `FOR UPDATE`:
 * the first marks it RESERVED by its order (the semantic lock), the others then see it
 * and are refused `CouponAlreadyUsed`. Steps of one order (retries, a late reserve after
 * the compensation, the pivot) serialize on the order's redemption row, always taken
 * before the coupon row:
 * - reserveCoupon first writes its RESERVED redemption with
 *   `insert ... on conflict (order_id) do nothing` (the claim), then locks the coupon;
 * - releaseCoupon first writes a RELEASED tombstone the same way, then locks the
 *   redemption row and, when it is RESERVED, the coupon.
 * A second writer of the same order's key waits until the first commits or rolls back.
 * Every interleaving of two steps of one order, A then B:
 * - reserve, reserve: B's claim waits and writes nothing; B answers from A's row (a
 *   lookup). If A rolled back (a business refusal), B decides afresh.
 * - reserve, release: the tombstone skips the claimed key; release locks the RESERVED
 *   row and gives the coupon back (AVAILABLE), the redemption RELEASED.
 * - release, reserve (the late reserve): reserve finds the RELEASED row and is refused
 *   (`SagaAlreadyCompensated`) without touching the coupon.
 * - release, release: the second finds a RELEASED row: a no-op.
 * - pivot and release: both lock the redemption row first. Pivot first: USED, release
 *   is a no-op (a used coupon is never given back). Release first: the pivot sees
 *   RELEASED and refuses (`SagaAlreadyCompensated`).
 * No step holds the coupon row while it waits for a redemption row, so they never deadlock.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm.ts';
import { FailureType } from '../common/failures.ts';
import { businessFailure, inTransaction, sql } from './tx.ts';

/** Input of {@link reserveCoupon}: order `orderId` of `userId` uses coupon `couponId` on a subtotal of `subtotalWon` won (integer >= 0). */
export interface ReserveCouponInput {
  orderId: string;
  userId: number;
  couponId: number;
  subtotalWon: number;
}

/** Input of {@link releaseCoupon}: give back coupon `couponId` if order `orderId` reserved it. */
export interface ReleaseCouponInput {
  orderId: string;
  couponId: number;
}

/** The order's pricing with its coupon, in won: `totalWon` = `subtotalWon` - `discountWon`, what the saga charges. */
export interface CouponPricing {
  orderId: string;
  couponId: number;
  subtotalWon: number;
  discountWon: number;
  totalWon: number;
}

/** Result of {@link releaseCoupon}: whether this call gave a reserved coupon back. */
export interface ReleaseCouponResult {
  orderId: string;
  couponId: number;
  released: boolean;
}

/** A coupon_redemptions row (int8 columns are numbers: db/int8.ts). */
export interface RedemptionRow {
  coupon_id: number;
  status: 'RESERVED' | 'RELEASED' | 'USED';
  subtotal_won: number;
  discount_won: number;
}

/** A coupon with its campaign's terms, as reserveCoupon checks it. */
interface CouponTerms {
  user_id: number;
  status: 'AVAILABLE' | 'RESERVED' | 'USED';
  order_id: string | null;
  discount_type: 'FIXED' | 'PERCENT';
  discount_value: number;
  max_discount_won: number | null;
  min_order_won: number;
  valid_from: Date;
  valid_until: Date;
  in_window: boolean;
}

/** Dependencies of the coupon activities. */
export interface CouponDeps {
  orm: Orm;
}

/** Builds the coupon activities of the order saga. */
export function createCouponActivities({ orm }: CouponDeps) {
  return {
    /**
     * Step 2 of the order saga: marks the user's coupon RESERVED by this order (another
     * order cannot use it meanwhile), writes the order's RESERVED redemption with the
     * subtotal and the discount, and returns the pricing. Discount: FIXED = min(value,
     * subtotal); PERCENT = floor(subtotal * value / 100), capped by the campaign's
     * `max_discount_won`, never above the subtotal. Idempotent per order: a retry returns
     * the same redemption. Compensation: {@link releaseCoupon}.
     *
     * @throws CouponNotFound, CouponNotOwned, CouponAlreadyUsed, CouponExpired,
     *   CouponMinimumNotMet (non-retryable); nothing changes.
     * @throws SagaAlreadyCompensated (non-retryable) when the saga already released it.
     */
    async reserveCoupon(input: ReserveCouponInput): Promise<CouponPricing> {
      return inTransaction(orm, async (em) => {
        const claimed = await sql(
          em,
          `insert into coupon_redemptions (order_id, coupon_id, status, subtotal_won, discount_won, created_at, updated_at)
           values (?, ?, 'RESERVED', ?, 0, now(), now()) on conflict (order_id) do nothing returning order_id`,
          [input.orderId, input.couponId, input.subtotalWon],
        );
        if (claimed.length === 0) return answerFromRedemption(em, input);
        const discountWon = await takeCoupon(em, input);
        await sql(em, 'update coupon_redemptions set discount_won = ? where order_id = ?', [discountWon, input.orderId]);
        return pricing(input.orderId, input.couponId, input.subtotalWon, discountWon);
      });
    },

    /**
     * Compensation of {@link reserveCoupon}: a coupon RESERVED by this order becomes
     * AVAILABLE again and the redemption RELEASED. Idempotent and a no-op otherwise (a
     * USED coupon is never given back); when the order has no redemption yet (the step
     * failed or timed out), it writes a RELEASED tombstone so a late reserveCoupon of the
     * order is refused.
     */
    async releaseCoupon(input: ReleaseCouponInput): Promise<ReleaseCouponResult> {
      const { orderId, couponId } = input;
      return inTransaction(orm, async (em) => {
        // The tombstone first: it waits for a reserveCoupon of this order still in flight.
        const tombstone = await sql(
          em,
          `insert into coupon_redemptions (order_id, coupon_id, status, subtotal_won, discount_won, created_at, updated_at)
           values (?, ?, 'RELEASED', 0, 0, now(), now()) on conflict (order_id) do nothing returning order_id`,
          [orderId, couponId],
        );
        if (tombstone.length > 0) return { orderId, couponId, released: false };
        const redemption = await lockRedemption(em, orderId);
        if (redemption?.status !== 'RESERVED') return { orderId, couponId, released: false };
        await sql(
          em,
          `update coupons set status = 'AVAILABLE', order_id = null, updated_at = now()
           where id = ? and order_id = ? and status = 'RESERVED'`,
          [redemption.coupon_id, orderId],
        );
        await sql(em, `update coupon_redemptions set status = 'RELEASED', updated_at = now() where order_id = ?`, [orderId]);
        return { orderId, couponId: redemption.coupon_id, released: true };
      });
    },
  };
}

/**
 * Locks the coupon with its campaign's terms, checks that order `input.orderId` may use
 * it, marks it RESERVED by the order and returns the discount in won.
 *
 * @throws the coupon business failures of reserveCoupon (the caller's transaction rolls back its claim).
 */
async function takeCoupon(em: EntityManager, input: ReserveCouponInput): Promise<number> {
  const { orderId, couponId, subtotalWon } = input;
  const [coupon] = await sql<CouponTerms>(
    em,
    `select c.user_id, c.status, c.order_id, k.discount_type, k.discount_value, k.max_discount_won, k.min_order_won,
            k.valid_from, k.valid_until, (now() >= k.valid_from and now() < k.valid_until) as in_window
     from coupons c join coupon_campaigns k on k.id = c.campaign_id where c.id = ? for update of c`,
    [couponId],
  );
  const details = { orderId, couponId };
  if (!coupon) throw businessFailure(FailureType.CouponNotFound, `Coupon ${couponId} does not exist`, details);
  if (coupon.user_id !== input.userId) throw businessFailure(FailureType.CouponNotOwned, `Coupon ${couponId} belongs to another user`, details);
  if (coupon.status !== 'AVAILABLE') {
    throw businessFailure(FailureType.CouponAlreadyUsed, `Coupon ${couponId} is ${coupon.status} by another order`, {
      ...details,
      couponStatus: coupon.status,
    });
  }
  if (!coupon.in_window) {
    throw businessFailure(FailureType.CouponExpired, `Coupon ${couponId} is outside its campaign's validity window`, {
      ...details,
      validFrom: new Date(coupon.valid_from).toISOString(),
      validUntil: new Date(coupon.valid_until).toISOString(),
    });
  }
  if (subtotalWon < coupon.min_order_won) {
    throw businessFailure(FailureType.CouponMinimumNotMet, `The subtotal ${subtotalWon} won is below the coupon's minimum of ${coupon.min_order_won} won`, {
      ...details,
      subtotalWon,
      minOrderWon: coupon.min_order_won,
    });
  }
  await sql(em, `update coupons set status = 'RESERVED', order_id = ?, updated_at = now() where id = ?`, [orderId, couponId]);
  return discountOf(coupon, subtotalWon);
}

/**
 * The discount of a campaign on `subtotalWon` won: FIXED = min(value, subtotal); PERCENT =
 * floor(subtotal * value / 100), capped by `max_discount_won` when set; never above the
 * subtotal, never negative.
 */
export function discountOf(
  terms: Pick<CouponTerms, 'discount_type' | 'discount_value' | 'max_discount_won'>,
  subtotalWon: number,
): number {
  const raw =
    terms.discount_type === 'FIXED'
      ? terms.discount_value
      : // BigInt: subtotal x percent may pass 2^53 for the largest orders.
        Number((BigInt(subtotalWon) * BigInt(terms.discount_value)) / 100n);
  const capped = terms.discount_type === 'PERCENT' && terms.max_discount_won !== null ? Math.min(raw, terms.max_discount_won) : raw;
  return Math.max(0, Math.min(capped, subtotalWon));
}

/**
 * The answer of a reserveCoupon whose order already has a redemption: its pricing (a
 * retry), or a refusal when the saga released it (the tombstone).
 */
async function answerFromRedemption(em: EntityManager, input: ReserveCouponInput): Promise<CouponPricing> {
  const redemption = await lockRedemption(em, input.orderId);
  if (!redemption) throw new Error(`Redemption of order ${input.orderId} vanished`);
  if (redemption.status === 'RELEASED') {
    throw businessFailure(FailureType.SagaAlreadyCompensated, `The coupon of order ${input.orderId} was already released`, {
      orderId: input.orderId,
      couponId: input.couponId,
    });
  }
  return pricing(input.orderId, redemption.coupon_id, redemption.subtotal_won, redemption.discount_won);
}

function pricing(orderId: string, couponId: number, subtotalWon: number, discountWon: number): CouponPricing {
  return { orderId, couponId, subtotalWon, discountWon, totalWon: subtotalWon - discountWon };
}

/** The order's redemption row, locked `FOR UPDATE`, or null when it has none. For the pivot too. */
export async function lockRedemption(em: EntityManager, orderId: string): Promise<RedemptionRow | null> {
  const [row] = await sql<RedemptionRow>(
    em,
    'select coupon_id, status, subtotal_won, discount_won from coupon_redemptions where order_id = ? for update',
    [orderId],
  );
  return row ?? null;
}

/**
 * For the pivot, in its transaction: the order's RESERVED redemption and the coupon it
 * reserved become USED. Returns false, changing nothing, when the coupon is not RESERVED
 * by this order (then the pivot refuses).
 */
export async function useCoupon(em: EntityManager, orderId: string, couponId: number): Promise<boolean> {
  const used = await sql(
    em,
    `update coupons set status = 'USED', updated_at = now() where id = ? and order_id = ? and status = 'RESERVED' returning id`,
    [couponId, orderId],
  );
  if (used.length === 0) return false;
  await sql(em, `update coupon_redemptions set status = 'USED', updated_at = now() where order_id = ? and status = 'RESERVED'`, [orderId]);
  return true;
}

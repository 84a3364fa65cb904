/**
 * Coupon fixtures for the order saga's suites: a coupon of a campaign (helpers/coupons.ts
 * `createCampaign`) issued to a user, written straight into the Coupons tables (issuance
 * itself is the coupon routes' business, tested with them), and readers of a coupon's and
 * an order's redemption state.
 */
import type { Orm } from '../../db/orm.ts';
import { createCampaign, type TestCampaign } from './coupons.ts';

export { createCampaign, type TestCampaign } from './coupons.ts';

/** Issues a coupon of `campaignId` to `userId` (AVAILABLE, the campaign's issued count + 1); returns its id. */
export async function issueCoupon(orm: Orm, campaignId: number, userId: number): Promise<number> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute('update coupon_campaigns set issued_count = issued_count + 1 where id = ?', [campaignId]);
    const [row] = await em.execute<{ id: number }[]>(
      `insert into coupons (campaign_id, user_id, status, issued_at, updated_at) values (?, ?, 'AVAILABLE', now(), now()) returning id`,
      [campaignId, userId],
    );
    return row!.id;
  });
}

/** A campaign with `terms` and one coupon of it issued to `userId`; returns the coupon id. */
export async function couponFor(orm: Orm, userId: number, terms: TestCampaign = {}): Promise<number> {
  return issueCoupon(orm, await createCampaign(orm, terms), userId);
}

/** A coupon's status and the order that reserved or used it. */
export async function couponState(orm: Orm, couponId: number): Promise<{ status: string; orderId: string | null }> {
  const [row] = await orm.em.fork().execute<{ status: string; order_id: string | null }[]>('select status, order_id from coupons where id = ?', [couponId]);
  return { status: row!.status, orderId: row!.order_id };
}

/** The order's redemption (status, coupon, subtotal, discount), or null. */
export async function redemptionOf(
  orm: Orm,
  orderId: string,
): Promise<{ status: string; couponId: number; subtotalWon: number; discountWon: number } | null> {
  const [row] = await orm.em
    .fork()
    .execute<{ status: string; coupon_id: number; subtotal_won: number; discount_won: number }[]>(
      'select status, coupon_id, subtotal_won, discount_won from coupon_redemptions where order_id = ?',
      [orderId],
    );
  return row ? { status: row.status, couponId: row.coupon_id, subtotalWon: row.subtotal_won, discountWon: row.discount_won } : null;
}

/** The order's pricing columns as the pivot wrote them. */
export async function orderPricingRow(
  orm: Orm,
  orderId: string,
): Promise<{ status: string; subtotalWon: number | null; discountWon: number; couponId: number | null; totalWon: number }> {
  const [row] = await orm.em
    .fork()
    .execute<{ status: string; subtotal_won: number | null; discount_won: number; coupon_id: number | null; total_won: number }[]>(
      'select status, subtotal_won, discount_won, coupon_id, total_won from orders where id = ?',
      [orderId],
    );
  return { status: row!.status, subtotalWon: row!.subtotal_won, discountWon: row!.discount_won, couponId: row!.coupon_id, totalWon: row!.total_won };
}

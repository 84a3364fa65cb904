/**
 * Coupon campaign fixtures for the coupon suites (issuance, the coupon list, the coupon
 * invariants): a fresh campaign with the terms a test needs, and readers of a campaign's
 * count and of a user's coupons, straight from the Coupons tables.
 */
import { randomUUID } from 'node:crypto';
import type { Orm } from '../../db/orm.ts';

/** Terms of a test campaign; by default FIXED 1,000 won, no minimum, 1,000 coupons, open from an hour ago for an hour. */
export interface TestCampaign {
  discountType?: 'FIXED' | 'PERCENT';
  /** Won for FIXED, percent 1..100 for PERCENT. */
  discountValue?: number;
  maxDiscountWon?: number | null;
  minOrderWon?: number;
  quantity?: number;
  /** Window offsets from now, in seconds (negative: in the past). */
  opensInS?: number;
  closesInS?: number;
}

/** Creates a campaign (none issued yet); returns its id. */
export async function createCampaign(orm: Orm, terms: TestCampaign = {}): Promise<number> {
  const [row] = await orm.em.fork().execute<{ id: number }[]>(
    `insert into coupon_campaigns (name, discount_type, discount_value, max_discount_won, min_order_won, valid_from, valid_until, quantity, created_at)
     values (?, ?, ?, ?, ?, now() + ? * interval '1 second', now() + ? * interval '1 second', ?, now()) returning id`,
    [
      `test-campaign-${randomUUID()}`,
      terms.discountType ?? 'FIXED',
      terms.discountValue ?? 1_000,
      terms.maxDiscountWon ?? null,
      terms.minOrderWon ?? 0,
      terms.opensInS ?? -3_600,
      terms.closesInS ?? 3_600,
      terms.quantity ?? 1_000,
    ],
  );
  return row!.id;
}

/** A campaign's `issued_count` and the number of its coupons, and its holders (user ids, ascending). */
export async function campaignCounts(orm: Orm, campaignId: number): Promise<{ issuedCount: number; coupons: number; holders: number[] }> {
  const em = orm.em.fork();
  const [campaign] = await em.execute<{ issued_count: number }[]>('select issued_count from coupon_campaigns where id = ?', [campaignId]);
  const holders = await em.execute<{ user_id: number }[]>('select user_id from coupons where campaign_id = ? order by user_id', [campaignId]);
  return { issuedCount: campaign!.issued_count, coupons: holders.length, holders: holders.map((h) => h.user_id) };
}

/** Runs one SQL statement on the test database (planting states the API cannot reach alone). */
export async function execute(orm: Orm, sql: string, params: unknown[] = []): Promise<void> {
  await orm.em.fork().execute(sql, params as never[]);
}

/**
 * Demo coupon campaigns, with windows relative to the day the seed runs: an open FIXED
 * campaign, an open PERCENT one with a cap and a minimum order, a small one of 100
 * coupons for the first-come-first-served race, and one that opens in a month. Idempotent:
 * keyed by the campaign name (a campaign seeded before keeps its window and counts).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DiscountType } from './entities/coupons.ts';

/** A seeded campaign: its discount (won for FIXED, percent for PERCENT), caps in won, and its window in days from now. */
export interface SeedCampaign {
  name: string;
  discountType: DiscountType;
  discountValue: number;
  maxDiscountWon: number | null;
  minOrderWon: number;
  quantity: number;
  /** Days from now the window opens (negative: already open) and closes. */
  opensInDays: number;
  closesInDays: number;
}

export const DEMO_CAMPAIGNS: readonly SeedCampaign[] = [
  { name: 'Welcome 5,000 won off', discountType: 'FIXED', discountValue: 5_000, maxDiscountWon: null, minOrderWon: 0, quantity: 10_000, opensInDays: -1, closesInDays: 90 },
  { name: 'Year-end 10% off (up to 30,000 won, orders from 50,000 won)', discountType: 'PERCENT', discountValue: 10, maxDiscountWon: 30_000, minOrderWon: 50_000, quantity: 1_000, opensInDays: -1, closesInDays: 30 },
  { name: 'Flash drop: 100 coupons of 20,000 won', discountType: 'FIXED', discountValue: 20_000, maxDiscountWon: null, minOrderWon: 100_000, quantity: 100, opensInDays: -1, closesInDays: 7 },
  { name: 'Spring preview 15% off (opens next month)', discountType: 'PERCENT', discountValue: 15, maxDiscountWon: 50_000, minOrderWon: 0, quantity: 500, opensInDays: 30, closesInDays: 60 },
];

/** Inserts the demo campaigns that do not exist yet (by name); returns how many it inserted. */
export async function seedDemoCampaigns(em: EntityManager): Promise<number> {
  let inserted = 0;
  for (const c of DEMO_CAMPAIGNS) {
    const rows = await em.execute(
      `insert into coupon_campaigns (name, discount_type, discount_value, max_discount_won, min_order_won, valid_from, valid_until, quantity, issued_count, created_at)
       select ?, ?, ?, ?, ?, now() + ? * interval '1 day', now() + ? * interval '1 day', ?, 0, now()
       where not exists (select 1 from coupon_campaigns where name = ?) returning id`,
      [c.name, c.discountType, c.discountValue, c.maxDiscountWon, c.minOrderWon, c.opensInDays, c.closesInDays, c.quantity, c.name],
    );
    inserted += rows.length;
  }
  return inserted;
}

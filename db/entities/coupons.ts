/**
 * Coupons bounded context: campaigns (a fixed quantity handed out first come, first
 * served within a validity window), the coupons issued from them, and each order's use
 * of a coupon. Schema: migration `Migration20261204200000_coupons`.
 */
import { defineEntity, p } from '@mikro-orm/core';
import { AppUser } from './catalog.ts';

/** How a campaign's coupons discount an order: a fixed amount in won, or a percentage of the subtotal. */
export const DISCOUNT_TYPES = ['FIXED', 'PERCENT'] as const;
export type DiscountType = (typeof DISCOUNT_TYPES)[number];

/**
 * A coupon campaign. `discountValue` is won for FIXED and a percentage (1..100) for
 * PERCENT, capped at `maxDiscountWon` when set; an order below `minOrderWon` (won, its
 * subtotal) cannot use it. Coupons are issued between `validFrom` and `validUntil`, and an
 * unused one expires at `validUntil`. `issuedCount` counts the coupons issued, never above
 * `quantity` (a CHECK backs the conditional update that issues one).
 */
export const CouponCampaign = defineEntity({
  name: 'CouponCampaign',
  tableName: 'coupon_campaigns',
  checks: [
    { name: 'coupon_campaigns_quantity_positive', expression: 'quantity > 0' },
    { name: 'coupon_campaigns_issued_within_quantity', expression: 'issued_count >= 0 and issued_count <= quantity' },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(200),
    discountType: p.enum(DISCOUNT_TYPES),
    discountValue: p.bigint('number'),
    maxDiscountWon: p.bigint('number').nullable(),
    minOrderWon: p.bigint('number').default(0),
    validFrom: p.datetime(),
    validUntil: p.datetime(),
    quantity: p.integer(),
    issuedCount: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

/** Stored statuses of a coupon; EXPIRED is derived when read (AVAILABLE past the campaign's `validUntil`). */
export const COUPON_STATUSES = ['AVAILABLE', 'RESERVED', 'USED'] as const;
export type CouponStatus = (typeof COUPON_STATUSES)[number];

/**
 * A coupon issued to a user, at most one per user per campaign (unique (campaign, user)).
 * RESERVED is the semantic lock of the order `orderId` that may still be cancelled; USED
 * means that order was confirmed. Indexed by (user, issuedAt, id) for the user's list,
 * newest first.
 */
export const Coupon = defineEntity({
  name: 'Coupon',
  tableName: 'coupons',
  uniques: [{ name: 'coupons_campaign_user_unique', properties: ['campaign', 'user'] }],
  indexes: [{ name: 'coupons_user_id_issued_at_id_index', properties: ['user', 'issuedAt', 'id'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    campaign: () => p.manyToOne(CouponCampaign),
    user: () => p.manyToOne(AppUser),
    status: p.enum(COUPON_STATUSES),
    orderId: p.uuid().nullable().index('coupons_order_id_index'),
    issuedAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

/** Statuses of an order's use of a coupon. */
export const COUPON_REDEMPTION_STATUSES = ['RESERVED', 'RELEASED', 'USED'] as const;
export type CouponRedemptionStatus = (typeof COUPON_REDEMPTION_STATUSES)[number];

/**
 * Order `orderId`'s use of coupon `couponId` (one per order): the subtotal it priced and
 * the discount it gave, in won. RESERVED while the order may be cancelled, USED once it is
 * confirmed, RELEASED when undone; a RELEASED row written before any reservation is the
 * tombstone that refuses a late reservation of that order. `couponId` has no foreign key:
 * the tombstone of an order naming an unknown coupon still records it.
 */
export const CouponRedemption = defineEntity({
  name: 'CouponRedemption',
  tableName: 'coupon_redemptions',
  properties: {
    orderId: p.uuid().primary(),
    couponId: p.integer().index('coupon_redemptions_coupon_id_index'),
    status: p.enum(COUPON_REDEMPTION_STATUSES),
    subtotalWon: p.bigint('number'),
    discountWon: p.bigint('number'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

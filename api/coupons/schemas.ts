/**
 * Request and response schemas of the coupon routes (`GET /coupon-campaigns`,
 * `POST /coupon-campaigns/:id/issues`, `GET /users/:id/coupons`); the body types are
 * inferred from them. Amounts in won; a PERCENT discount's value is a percentage.
 */
import { z } from 'zod';
import { DISCOUNT_TYPES } from '../../db/entities/index.ts';
import { cursorCodec, pageQuery, pageSchema } from '../pagination.ts';
import { Instant } from '../schemas.ts';
import { entityId } from '../validation.ts';

/** Where a campaign stands now: not yet open, issuing, out of coupons, or past its window. */
export const CAMPAIGN_STATES = ['UPCOMING', 'OPEN', 'SOLD_OUT', 'ENDED'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

/** A coupon as its user sees it; EXPIRED is an AVAILABLE coupon whose campaign's window has passed. */
export const COUPON_VIEW_STATUSES = ['AVAILABLE', 'RESERVED', 'USED', 'EXPIRED'] as const;
export type CouponViewStatus = (typeof COUPON_VIEW_STATUSES)[number];

const won = (description: string) => z.number().int().nonnegative().meta({ description });

/** The discount a campaign's coupons give. */
export const DiscountSchema = z
  .object({
    type: z.enum(DISCOUNT_TYPES).meta({ description: 'FIXED: `value` won off; PERCENT: `value` percent of the subtotal off, at most `maxDiscountWon`.' }),
    value: z.number().int().min(1).meta({ description: 'Won for FIXED, a percentage (1..100) for PERCENT.' }),
    maxDiscountWon: won('The cap of a PERCENT discount, in won; null when uncapped.').nullable(),
    minOrderWon: won('The smallest order subtotal the coupon applies to, in won (0: any).'),
  })
  .meta({ id: 'Discount', description: 'How a coupon discounts an order.' });

/** A coupon campaign, with how many coupons are left and when it issues them. */
export const CampaignViewSchema = z
  .object({
    campaignId: entityId,
    name: z.string(),
    discount: DiscountSchema,
    validFrom: Instant.meta({ description: 'Coupons are issued from this instant.' }),
    validUntil: Instant.meta({ description: 'Coupons are issued until this instant, and unused ones expire then.' }),
    quantity: z.number().int().min(1).meta({ description: 'Coupons the campaign hands out in all.' }),
    issued: z.number().int().nonnegative().meta({ description: 'Coupons issued so far.' }),
    remaining: z.number().int().nonnegative().meta({ description: 'Coupons left: `quantity - issued`.' }),
    state: z.enum(CAMPAIGN_STATES).meta({ description: 'UPCOMING before `validFrom`, ENDED after `validUntil`, in between OPEN or SOLD_OUT.' }),
  })
  .meta({ id: 'CouponCampaign', description: 'A first-come-first-served coupon campaign.' });

/** A campaign as the API shows it. */
export type CampaignView = z.output<typeof CampaignViewSchema>;

/** Cursor of `GET /coupon-campaigns`: the id of the last campaign shown (the list is by id ascending). */
export const campaignCursor = cursorCodec('coupon-campaigns', z.strictObject({ id: entityId }));

/** Query of `GET /coupon-campaigns`: `limit` and `cursor` (api/pagination.ts). */
export const ListCampaignsQuery = pageQuery(campaignCursor);

/** Body of `GET /coupon-campaigns`: a page of campaigns by id ascending. */
export const CampaignPageSchema = pageSchema(CampaignViewSchema, {
  id: 'CouponCampaignPage',
  description: 'A page of coupon campaigns, by campaign id ascending.',
});

/** Body of `GET /coupon-campaigns`. */
export type CampaignPage = z.output<typeof CampaignPageSchema>;

/** A coupon issued to a user. */
export const CouponViewSchema = z
  .object({
    couponId: entityId,
    userId: entityId,
    campaignId: entityId,
    campaignName: z.string(),
    discount: DiscountSchema,
    status: z.enum(COUPON_VIEW_STATUSES).meta({
      description: 'AVAILABLE to use; RESERVED by an order in progress; USED by a confirmed order; EXPIRED when unused past `validUntil`.',
    }),
    orderId: z.uuid().nullable().meta({ description: 'The order that reserved or used it; null otherwise.' }),
    issuedAt: Instant,
    validUntil: Instant.meta({ description: 'An unused coupon expires at this instant.' }),
  })
  .meta({ id: 'Coupon', description: 'A coupon issued to a user, with its campaign\'s discount.' });

/** A coupon as the API shows it. */
export type CouponView = z.output<typeof CouponViewSchema>;

/**
 * Cursor of `GET /users/:id/coupons`: the issue time (epoch microseconds, the column's
 * full precision) and id of the last coupon shown.
 */
export const couponCursor = cursorCodec(
  'coupons',
  z.strictObject({ issuedAtUs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), id: entityId }),
);

/** Query of `GET /users/:id/coupons`: `limit` and `cursor` (api/pagination.ts). */
export const ListUserCouponsQuery = pageQuery(couponCursor);

/** Body of `GET /users/:id/coupons`: a page of a user's coupons, newest first. */
export const CouponPageSchema = pageSchema(CouponViewSchema, {
  id: 'CouponPage',
  description: 'A page of a user\'s coupons, newest first.',
});

/** Body of `GET /users/:id/coupons`. */
export type CouponPage = z.output<typeof CouponPageSchema>;

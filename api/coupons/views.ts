/**
 * The Coupons read model: the campaigns (`GET /coupon-campaigns`, by id ascending, with
 * what is left and where each stands now) and a user's coupons (`GET /users/:id/coupons`,
 * newest first by issue time then id, keyset-paged through the index
 * `coupons_user_id_issued_at_id_index`). EXPIRED is derived here: an AVAILABLE coupon whose
 * campaign's `valid_until` has passed. Instants are the database's (`now()`), not this
 * process's clock, so the state agrees with the issuing transaction's window check.
 */
import type { Orm } from '../../db/orm.ts';
import { toPage } from '../pagination.ts';
import { campaignCursor, couponCursor, type CampaignPage, type CampaignView, type CouponPage, type CouponView } from './schemas.ts';

/** Path of a user's coupons: `/users/<userId>/coupons`. */
export function couponsPath(userId: number): string {
  return `/users/${userId}/coupons`;
}

/** `to_char` format of a UTC timestamp as `Date#toISOString` writes it (milliseconds, `Z`). */
const ISO_8601_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** SQL of an instant column of alias `a` as ISO 8601 UTC text. */
const iso = (column: string) => `to_char(${column} at time zone 'UTC', ${ISO_8601_UTC})`;

/** SQL of the discount object of campaign alias `c`. */
const DISCOUNT_JSON = `json_build_object('type', c.discount_type, 'value', c.discount_value,
  'maxDiscountWon', c.max_discount_won, 'minOrderWon', c.min_order_won)`;

/** SQL of the {@link CampaignView} of campaign alias `c`, its state as of `now()`. */
const CAMPAIGN_JSON = `json_build_object(
  'campaignId', c.id, 'name', c.name, 'discount', ${DISCOUNT_JSON},
  'validFrom', ${iso('c.valid_from')}, 'validUntil', ${iso('c.valid_until')},
  'quantity', c.quantity, 'issued', c.issued_count, 'remaining', c.quantity - c.issued_count,
  'state', case when now() < c.valid_from then 'UPCOMING' when now() > c.valid_until then 'ENDED'
                when c.issued_count >= c.quantity then 'SOLD_OUT' else 'OPEN' end)`;

/**
 * SQL of the {@link CouponView} of coupon alias `k` and its campaign alias `c`; an
 * AVAILABLE coupon past the campaign's window reads EXPIRED.
 */
export const COUPON_JSON = `json_build_object(
  'couponId', k.id, 'userId', k.user_id, 'campaignId', c.id, 'campaignName', c.name, 'discount', ${DISCOUNT_JSON},
  'status', case when k.status = 'AVAILABLE' and c.valid_until < now() then 'EXPIRED' else k.status end,
  'orderId', k.order_id, 'issuedAt', ${iso('k.issued_at')}, 'validUntil', ${iso('c.valid_until')})`;

/** A page of the campaigns by id ascending, starting after campaign `afterId` when given. */
export async function listCampaigns(orm: Orm, limit: number, afterId: number | undefined): Promise<CampaignPage> {
  const rows = await orm.em.fork().execute<{ view: CampaignView }[]>(
    `select ${CAMPAIGN_JSON} as view from coupon_campaigns c where c.id > ? order by c.id limit ?`,
    [afterId ?? 0, limit + 1] as never[],
    'all',
  );
  return toPage(rows, {
    limit,
    path: '/coupon-campaigns',
    codec: campaignCursor,
    keyOf: (row) => ({ id: row.view.campaignId }),
    item: (row) => row.view,
  });
}

/** Coupon `couponId` as {@link CouponView}; null when there is none. */
export async function findCouponView(orm: Orm, couponId: number): Promise<CouponView | null> {
  const [row] = await orm.em.fork().execute<{ view: CouponView }[]>(
    `select ${COUPON_JSON} as view from coupons k join coupon_campaigns c on c.id = k.campaign_id where k.id = ?`,
    [couponId] as never[],
    'all',
  );
  return row?.view ?? null;
}

/** Where a page of a user's coupons starts: after this coupon (see `couponCursor`). */
export type CouponListAfter = { issuedAtUs: number; id: number };

/** One row of {@link listUserCoupons}'s statement: a coupon and its cursor key. */
interface CouponListRow {
  view: CouponView;
  /** `issued_at` in epoch microseconds, as text (a bigint). */
  issuedAtUs: string;
}

/**
 * A page of user `userId`'s coupons, newest first (issue time, then id), starting after
 * `after` when given. One statement reads whether the user exists and `limit + 1` coupons
 * (the extra one tells whether there is a next page).
 *
 * @returns null when there is no such user; otherwise the page (empty without coupons).
 */
export async function listUserCoupons(orm: Orm, userId: number, limit: number, after: CouponListAfter | undefined): Promise<CouponPage | null> {
  // The row comparison walks the (user_id, issued_at, id) index backwards from the cursor.
  const keyset = after ? `and (k.issued_at, k.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::int)` : '';
  const params = after ? [userId, userId, after.issuedAtUs, after.id, limit + 1] : [userId, userId, limit + 1];
  const [row] = await orm.em.fork().execute<{ user_known: boolean; coupons: CouponListRow[] }[]>(
    `select exists (select 1 from app_users where id = ?) as user_known,
            coalesce((select json_agg(json_build_object('view', ${COUPON_JSON},
                               'issuedAtUs', ((extract(epoch from k.issued_at) * 1000000)::bigint)::text)
                             order by k.issued_at desc, k.id desc)
                      from (select * from coupons k where k.user_id = ? ${keyset}
                            order by k.issued_at desc, k.id desc limit ?) k
                      join coupon_campaigns c on c.id = k.campaign_id), '[]'::json) as coupons`,
    params as never[],
    'all',
  );
  if (!row?.user_known) return null;
  return toPage(row.coupons, {
    limit,
    path: couponsPath(userId),
    codec: couponCursor,
    keyOf: (coupon) => ({ issuedAtUs: Number(coupon.issuedAtUs), id: coupon.view.couponId }),
    item: (coupon) => coupon.view,
  });
}

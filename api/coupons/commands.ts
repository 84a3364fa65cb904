/**
 * Issuing a coupon, first come, first served: one local transaction in the Coupons
 * context, run by the API directly through the ORM. It needs no saga: nothing outside
 * this context changes, so there is nothing to compensate (docs/architecture.md, "Coupons").
 *
 * The database decides, without a check-then-insert race:
 * 1. `insert ... on conflict (campaign_id, user_id) do nothing`: at most one coupon per
 *    user per campaign (a concurrent insert of the same user waits for ours to end);
 * 2. only when it inserted, the conditional `update coupon_campaigns set issued_count =
 *    issued_count + 1 where id = ? and issued_count < quantity and now() between valid_from
 *    and valid_until`: at most `quantity` in all (the campaign's row lock serializes the
 *    issuers); when it matched nothing the transaction rolls back, coupon and all, so
 *    `issued_count` always equals the number of coupons.
 * Why a request was refused is read afterwards ({@link refusal}).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../../db/orm.ts';
import { ApiError, CouponErrorCode, notFound } from '../errors.ts';
import type { CouponView } from './schemas.ts';
import { COUPON_JSON, couponsPath, findCouponView } from './views.ts';

/** Thrown inside the issuing transaction to roll it back when the campaign issued nothing. */
class NotIssued extends Error {}

/** Runs a SQL statement with `?` placeholders in `em`'s transaction and returns its rows. */
function sql<Row extends object>(em: EntityManager, query: string, params: unknown[]): Promise<Row[]> {
  return em.execute<Row[]>(query, params as never[], 'all');
}

/**
 * One attempt to issue a coupon of campaign `campaignId` to user `userId`, in one
 * transaction.
 * @returns the new coupon's id, or undefined when nothing was issued (and nothing changed).
 */
async function tryIssue(orm: Orm, campaignId: number, userId: number): Promise<number | undefined> {
  try {
    return await orm.em.fork().transactional(async (em) => {
      // Selecting the campaign makes an unknown one insert nothing rather than break the foreign key.
      const [coupon] = await sql<{ id: number }>(
        em,
        `insert into coupons (campaign_id, user_id, status, issued_at, updated_at)
         select c.id, ?, 'AVAILABLE', clock_timestamp(), clock_timestamp() from coupon_campaigns c where c.id = ?
         on conflict (campaign_id, user_id) do nothing returning id`,
        [userId, campaignId],
      );
      if (!coupon) throw new NotIssued();
      const counted = await sql<{ id: number }>(
        em,
        `update coupon_campaigns set issued_count = issued_count + 1
         where id = ? and issued_count < quantity and now() between valid_from and valid_until returning id`,
        [campaignId],
      );
      if (counted.length === 0) throw new NotIssued();
      return coupon.id;
    });
  } catch (err) {
    if (err instanceof NotIssued) return undefined;
    throw err;
  }
}

/** What {@link refusal} reads about a campaign and the user's coupon of it. */
interface Standing {
  quantity: number;
  issued_count: number;
  active: boolean;
  valid_from: string;
  valid_until: string;
  coupon: CouponView | null;
}

/**
 * Why user `userId` got no coupon of campaign `campaignId`, read after the refused
 * transaction: 404 `NotFound` (no such campaign), 409 `CouponAlreadyIssued` (member
 * `coupon`: the one the user has), 410 `CouponCampaignNotActive` (outside the window), 409
 * `CouponSoldOut`; undefined when none holds any more (the window opened meanwhile: try again).
 */
async function refusal(orm: Orm, campaignId: number, userId: number): Promise<ApiError | undefined> {
  const [row] = await orm.em.fork().execute<Standing[]>(
    `select c.quantity, c.issued_count, now() between c.valid_from and c.valid_until as active,
            to_json(c.valid_from) #>> '{}' as valid_from, to_json(c.valid_until) #>> '{}' as valid_until,
            (select ${COUPON_JSON} from coupons k where k.campaign_id = c.id and k.user_id = ?) as coupon
     from coupon_campaigns c where c.id = ?`,
    [userId, campaignId] as never[],
    'all',
  );
  if (!row) return notFound(`coupon campaign ${campaignId}`);
  if (row.coupon) {
    return new ApiError(409, CouponErrorCode.CouponAlreadyIssued, `User ${userId} already has a coupon of campaign ${campaignId}`, {
      details: { campaignId, coupon: row.coupon },
      headers: { Location: couponsPath(userId) },
    });
  }
  if (!row.active) {
    const window = { campaignId, validFrom: new Date(row.valid_from).toISOString(), validUntil: new Date(row.valid_until).toISOString() };
    return new ApiError(410, CouponErrorCode.CouponCampaignNotActive, `Coupon campaign ${campaignId} issues coupons only from ${window.validFrom} until ${window.validUntil}`, {
      details: window,
    });
  }
  if (row.issued_count >= row.quantity) {
    return new ApiError(409, CouponErrorCode.CouponSoldOut, `Coupon campaign ${campaignId} has issued all of its ${row.quantity} coupons`, {
      details: { campaignId, quantity: row.quantity },
    });
  }
  return undefined;
}

/** Attempts before giving up on a campaign whose refusal could not be explained (its window opened between the two reads). */
const ISSUE_ATTEMPTS = 3;

/**
 * Issues one coupon of campaign `campaignId` to user `userId` (the caller), at most one
 * per user and at most the campaign's `quantity` in all; a refused request changes nothing.
 *
 * @returns the new coupon's view.
 * @throws ApiError 404 `NotFound` (no such campaign); 409 `CouponAlreadyIssued` (member
 *   `coupon`); 409 `CouponSoldOut`; 410 `CouponCampaignNotActive` (before `validFrom` or
 *   after `validUntil`); database errors as they are (answered 503 or 500).
 */
export async function issueCoupon(orm: Orm, campaignId: number, userId: number): Promise<CouponView> {
  for (let attempt = 1; ; attempt++) {
    const couponId = await tryIssue(orm, campaignId, userId);
    if (couponId !== undefined) {
      const view = await findCouponView(orm, couponId);
      if (!view) throw new Error(`Coupon ${couponId} was issued but cannot be read`);
      return view;
    }
    const refused = await refusal(orm, campaignId, userId);
    if (refused) throw refused;
    if (attempt >= ISSUE_ATTEMPTS) throw new Error(`Coupon campaign ${campaignId} refused user ${userId} for no reason it can tell`);
  }
}

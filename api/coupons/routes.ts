/**
 * Coupon routes (the Coupons context: campaigns, issuance, a user's coupons).
 *
 * - `GET /coupon-campaigns?limit=&cursor=` (public): 200 {@link CampaignPage}, the
 *   campaigns by id ascending with `remaining` coupons, window and `state`, paged as every
 *   list is (api/pagination.ts); 400 `ValidationFailed` for a bad limit or cursor.
 * - `POST /coupon-campaigns/:id/issues` (user token; no body): issues one coupon of the
 *   campaign to the caller, first come, first served (commands.ts `issueCoupon`, one local
 *   transaction, no saga): 201 {@link CouponView} with `Location: /users/<id>/coupons`; 400
 *   for a bad id; 403 `Forbidden` for an operator token; 404 `NotFound` (no such campaign);
 *   409 `CouponAlreadyIssued` (member `coupon`), 409 `CouponSoldOut`, 410
 *   `CouponCampaignNotActive` (outside the window); a refusal changes nothing. Rate limited
 *   per caller like every write.
 * - `GET /users/:id/coupons?limit=&cursor=` (user token: own only, 404 for another user's;
 *   operators read any): 200 {@link CouponPage}, newest first, status AVAILABLE, RESERVED,
 *   USED or EXPIRED; 400 `ValidationFailed`; 404 `NotFound` for an unknown user.
 */
import { actingUserId, assertMayRead, callerOf } from '../auth/guard.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { EntityIdParams } from '../validation.ts';
import { issueCoupon } from './commands.ts';
import { ListCampaignsQuery, ListUserCouponsQuery, type CampaignPage, type CouponPage, type CouponView } from './schemas.ts';
import { couponsPath, listCampaigns, listUserCoupons } from './views.ts';

/** Registers `GET /coupon-campaigns`, `POST /coupon-campaigns/:id/issues` and `GET /users/:id/coupons`. */
export function registerCouponRoutes(router: AppRouter, deps: AppDeps): void {
  router.get<object, object, CampaignPage>('/coupon-campaigns', async (ctx) => {
    const { limit, cursor } = ListCampaignsQuery.parse(ctx.query);
    ctx.body = await listCampaigns(deps.orm, limit, cursor?.id);
  });

  router.post<object, object, CouponView>('/coupon-campaigns/:id/issues', async (ctx) => {
    const { id: campaignId } = EntityIdParams.parse(ctx.params);
    const userId = actingUserId(callerOf(ctx), undefined);
    const coupon = await issueCoupon(deps.orm, campaignId, userId);
    ctx.state.log.info({ campaignId, userId, couponId: coupon.couponId }, 'coupon issued');
    ctx.set('Location', couponsPath(userId));
    ctx.status = 201;
    ctx.body = coupon;
  });

  router.get<object, object, CouponPage>('/users/:id/coupons', async (ctx) => {
    const { id } = EntityIdParams.parse(ctx.params);
    const { limit, cursor } = ListUserCouponsQuery.parse(ctx.query);
    assertMayRead(callerOf(ctx), id, `user ${id}`);
    const page = await listUserCoupons(deps.orm, id, limit, cursor);
    if (!page) throw notFound(`user ${id}`);
    ctx.body = page;
  });
}

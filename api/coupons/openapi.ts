/** The documented coupon routes (handlers: coupons/routes.ts). */
import { CampaignPageSchema, CouponPageSchema, CouponViewSchema, ListCampaignsQuery, ListUserCouponsQuery } from './schemas.ts';
import { LocationHeader, idParams, jsonAnswer, pagedListRoute, route, type DocumentedRoute } from '../openapi/operation.ts';

/** The coupon routes. */
export const couponRoutes: DocumentedRoute[] = [
  pagedListRoute('/coupon-campaigns', ListCampaignsQuery, {
    access: 'public',
    operationId: 'listCouponCampaigns',
    tag: 'Coupons',
    summary: 'List the coupon campaigns',
    description:
      'Campaigns by id ascending, with their discount, issuing window, coupons issued and `remaining`, and `state` (UPCOMING, OPEN, SOLD_OUT, ENDED) as of now; paged by `limit` and `cursor` (follow `next`).',
    schema: CampaignPageSchema,
    answer: 'A page of campaigns.',
  }),

  route('post', '/coupon-campaigns/:id/issues', {
    access: 'user',
    operationId: 'issueCoupon',
    tag: 'Coupons',
    summary: 'Get a coupon of a campaign, first come, first served',
    description:
      'Issues one coupon of the campaign to the caller, in one database transaction: at most `quantity` in all and one per user. ' +
      'A refused request changes nothing: 409 `CouponSoldOut` when none is left, 409 `CouponAlreadyIssued` when the caller has one (member `coupon`), ' +
      '410 `CouponCampaignNotActive` before `validFrom` or after `validUntil`. Repeating the request is safe: a second call answers `CouponAlreadyIssued`. ' +
      'Operators act on nobody\'s behalf (403). Takes no body.',
    params: { path: idParams('The campaign id.') },
    answers: { 201: jsonAnswer(CouponViewSchema, 'The coupon issued to the caller.', { Location: LocationHeader }) },
    problems: {
      400: ['ValidationFailed'],
      403: ['Forbidden'],
      404: ['NotFound'],
      409: ['CouponSoldOut', 'CouponAlreadyIssued'],
      410: ['CouponCampaignNotActive'],
    },
  }),

  pagedListRoute(
    '/users/:id/coupons',
    ListUserCouponsQuery,
    {
      access: 'user',
      operationId: 'listUserCoupons',
      tag: 'Coupons',
      summary: 'List a user\'s coupons, newest first',
      description:
        'The user\'s coupons with their campaign\'s name and discount, newest first; `status` AVAILABLE, RESERVED (by an order in progress), USED (by a confirmed order) or EXPIRED (unused past `validUntil`). Paged by `limit` and `cursor` (follow `next`).',
      schema: CouponPageSchema,
      answer: 'A page of coupons.',
    },
    idParams('The user id.'),
  ),
];

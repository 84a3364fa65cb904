/**
 * The Coupons context through the HTTP API (no Temporal: issuance is one local
 * transaction, and a client that refuses every call proves no route reaches it): the
 * public campaign list with what is left and each campaign's state; issuing a coupon to
 * the caller (201), and every refusal changing nothing: 409 `CouponAlreadyIssued` with the
 * coupon, 409 `CouponSoldOut`, 410 `CouponCampaignNotActive` before and after the window,
 * 404 for an unknown campaign, 403 for an operator; a user's coupons newest first with
 * AVAILABLE, RESERVED, USED and EXPIRED, paged, own only; the write rate limit.
 * Concurrency: test/reliability/coupon-issuance.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { campaignCounts, createCampaign, execute } from '../helpers/coupons.ts';
import { createUser } from '../helpers/db.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';
import { callApi, type ApiAnswer, type CallAs } from '../helpers/stack.ts';

let api: TestApi;
const temporalCalls: string[] = [];

beforeAll(async () => {
  api = await startTestApi({ refusedCalls: temporalCalls });
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
  expect(temporalCalls).toEqual([]);
});

const call = (method: string, path: string, as: CallAs): Promise<ApiAnswer> => callApi({ apiUrl: api.url }, method, path, undefined, {}, { as });
const issue = (campaignId: number, userId: CallAs) => call('POST', `/coupon-campaigns/${campaignId}/issues`, userId);

/** Every campaign of the list, following `next` from `limit`-sized pages. */
async function allCampaigns(limit = 100): Promise<any[]> {
  const items: any[] = [];
  for (let path: string | null = `/coupon-campaigns?limit=${limit}`; path; ) {
    const page = await call('GET', path, 'anonymous');
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    path = page.body.next;
  }
  return items;
}

describe('GET /coupon-campaigns', () => {
  it('lists every campaign without a token, with its discount, window, what is left and its state', async () => {
    const open = await createCampaign(api.orm, { discountType: 'PERCENT', discountValue: 10, maxDiscountWon: 30_000, minOrderWon: 50_000, quantity: 3 });
    const soldOut = await createCampaign(api.orm, { quantity: 1 });
    expect((await issue(soldOut, await createUser(api.orm, 0))).status).toBe(201);
    const upcoming = await createCampaign(api.orm, { opensInS: 3_600, closesInS: 7_200 });
    const ended = await createCampaign(api.orm, { opensInS: -7_200, closesInS: -3_600 });

    const byId = new Map((await allCampaigns(2)).map((c) => [c.campaignId, c]));
    expect(byId.get(open)).toEqual({
      campaignId: open,
      name: expect.stringMatching(/^test-campaign-/),
      discount: { type: 'PERCENT', value: 10, maxDiscountWon: 30_000, minOrderWon: 50_000 },
      validFrom: expect.any(String),
      validUntil: expect.any(String),
      quantity: 3,
      issued: 0,
      remaining: 3,
      state: 'OPEN',
    });
    expect(byId.get(soldOut)).toMatchObject({ quantity: 1, issued: 1, remaining: 0, state: 'SOLD_OUT' });
    expect(byId.get(upcoming)).toMatchObject({ state: 'UPCOMING', remaining: 1_000 });
    expect(byId.get(ended)).toMatchObject({ state: 'ENDED' });
    const pages = await allCampaigns(3);
    expect(pages.map((c) => c.campaignId)).toEqual([...byId.keys()]);
  });

  it('refuses a cursor it did not write with 400', async () => {
    const res = await call('GET', '/coupon-campaigns?cursor=bm90LWEtY3Vyc29y', 'anonymous');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ValidationFailed');
  });
});

describe('POST /coupon-campaigns/:id/issues', () => {
  it('issues one coupon to the caller: 201 with the coupon, the campaign counts it', async () => {
    const campaignId = await createCampaign(api.orm, { discountValue: 5_000, quantity: 10 });
    const userId = await createUser(api.orm, 0);
    const res = await issue(campaignId, userId);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/users/${userId}/coupons`);
    expect(res.body).toEqual({
      couponId: expect.any(Number),
      userId,
      campaignId,
      campaignName: expect.stringMatching(/^test-campaign-/),
      discount: { type: 'FIXED', value: 5_000, maxDiscountWon: null, minOrderWon: 0 },
      status: 'AVAILABLE',
      orderId: null,
      issuedAt: expect.any(String),
      validUntil: expect.any(String),
    });
    expect(await campaignCounts(api.orm, campaignId)).toEqual({ issuedCount: 1, coupons: 1, holders: [userId] });
  });

  it('refuses a second coupon to the same user with 409 CouponAlreadyIssued, naming the coupon, and changes nothing', async () => {
    const campaignId = await createCampaign(api.orm);
    const userId = await createUser(api.orm, 0);
    const first = await issue(campaignId, userId);
    expect(first.status).toBe(201);
    const again = await issue(campaignId, userId);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'CouponAlreadyIssued', campaignId, coupon: first.body });
    expect(await campaignCounts(api.orm, campaignId)).toEqual({ issuedCount: 1, coupons: 1, holders: [userId] });
  });

  it('refuses with 409 CouponSoldOut once the quantity is issued, and changes nothing', async () => {
    const campaignId = await createCampaign(api.orm, { quantity: 1 });
    const [a, b] = [await createUser(api.orm, 0), await createUser(api.orm, 0)];
    expect((await issue(campaignId, a)).status).toBe(201);
    const late = await issue(campaignId, b);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'CouponSoldOut', campaignId, quantity: 1 });
    expect(await campaignCounts(api.orm, campaignId)).toEqual({ issuedCount: 1, coupons: 1, holders: [a] });
  });

  it.each([
    ['before the window opens', 3_600, 7_200],
    ['after the window closed', -7_200, -3_600],
  ])('refuses with 410 CouponCampaignNotActive %s, and changes nothing', async (_when, opensInS, closesInS) => {
    const campaignId = await createCampaign(api.orm, { opensInS, closesInS });
    const res = await issue(campaignId, await createUser(api.orm, 0));
    expect(res.status).toBe(410);
    expect(res.body).toMatchObject({ code: 'CouponCampaignNotActive', campaignId, validFrom: expect.any(String), validUntil: expect.any(String) });
    expect(await campaignCounts(api.orm, campaignId)).toEqual({ issuedCount: 0, coupons: 0, holders: [] });
  });

  it('answers 404 for an unknown campaign, 400 for a bad id, 403 for an operator and 401 without a token', async () => {
    const userId = await createUser(api.orm, 0);
    expect((await issue(2_147_483_647, userId)).body).toMatchObject({ status: 404, code: 'NotFound' });
    expect((await call('POST', '/coupon-campaigns/0/issues', userId)).body).toMatchObject({ status: 400, code: 'ValidationFailed' });
    const campaignId = await createCampaign(api.orm);
    expect((await issue(campaignId, 'operator')).body).toMatchObject({ status: 403, code: 'Forbidden' });
    expect((await issue(campaignId, 'anonymous')).body).toMatchObject({ status: 401, code: 'AuthenticationRequired' });
    expect(await campaignCounts(api.orm, campaignId)).toEqual({ issuedCount: 0, coupons: 0, holders: [] });
  });
});

describe('GET /users/:id/coupons', () => {
  it('lists the user\'s coupons newest first, with RESERVED, USED and EXPIRED read from the rows', async () => {
    const userId = await createUser(api.orm, 0);
    const campaigns = [await createCampaign(api.orm), await createCampaign(api.orm), await createCampaign(api.orm), await createCampaign(api.orm)];
    const ids: number[] = [];
    for (const campaignId of campaigns) ids.push((await issue(campaignId, userId)).body.couponId);
    const [reservedBy, usedBy] = [randomUUID(), randomUUID()];
    await execute(api.orm, `update coupons set status = 'RESERVED', order_id = ? where id = ?`, [reservedBy, ids[1]]);
    await execute(api.orm, `update coupons set status = 'USED', order_id = ? where id = ?`, [usedBy, ids[2]]);
    await execute(api.orm, `update coupon_campaigns set valid_until = now() - interval '1 second' where id = ?`, [campaigns[3]]);

    const res = await call('GET', `/users/${userId}/coupons`, userId);
    expect(res.status).toBe(200);
    expect(res.body.next).toBeNull();
    expect(res.body.items.map((c: any) => [c.couponId, c.status, c.orderId])).toEqual([
      [ids[3], 'EXPIRED', null],
      [ids[2], 'USED', usedBy],
      [ids[1], 'RESERVED', reservedBy],
      [ids[0], 'AVAILABLE', null],
    ]);
    expect(res.body.items[0]).toMatchObject({ campaignId: campaigns[3], campaignName: expect.stringMatching(/^test-campaign-/), discount: { type: 'FIXED', value: 1_000 } });
  });

  it('pages by limit and cursor without repeats', async () => {
    const userId = await createUser(api.orm, 0);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await issue(await createCampaign(api.orm), userId)).body.couponId);
    const seen: number[] = [];
    for (let path: string | null = `/users/${userId}/coupons?limit=2`; path; ) {
      const page = await call('GET', path, userId);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((c: any) => c.couponId));
      path = page.body.next;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('shows a user only their own coupons (404 for another\'s), lets an operator read any, 404 for an unknown user', async () => {
    const [owner, other] = [await createUser(api.orm, 0), await createUser(api.orm, 0)];
    expect((await issue(await createCampaign(api.orm), owner)).status).toBe(201);
    expect((await call('GET', `/users/${owner}/coupons`, other)).body).toMatchObject({ status: 404, code: 'NotFound' });
    const asOperator = await call('GET', `/users/${owner}/coupons`, 'operator');
    expect(asOperator.status).toBe(200);
    expect(asOperator.body.items).toHaveLength(1);
    expect((await call('GET', '/users/2147483647/coupons', 'operator')).body).toMatchObject({ status: 404, code: 'NotFound' });
    expect((await call('GET', `/users/${other}/coupons`, other)).body).toEqual({ items: [], next: null });
  });
});

describe('the write rate limit', () => {
  it('counts issue requests per caller: past the limit they answer 429 and issue nothing', async () => {
    const limited = await startTestApi({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '2' } });
    try {
      const userId = await createUser(limited.orm, 0);
      const campaigns = [await createCampaign(limited.orm), await createCampaign(limited.orm), await createCampaign(limited.orm)];
      const send = (campaignId: number) => callApi({ apiUrl: limited.url }, 'POST', `/coupon-campaigns/${campaignId}/issues`, undefined, {}, { as: userId });
      expect((await send(campaigns[0]!)).status).toBe(201);
      expect((await send(campaigns[1]!)).status).toBe(201);
      const third = await send(campaigns[2]!);
      expect(third.status).toBe(429);
      expect(third.body.code).toBe('RateLimited');
      expect(await campaignCounts(limited.orm, campaigns[2]!)).toEqual({ issuedCount: 0, coupons: 0, holders: [] });
    } finally {
      await limited.close();
    }
  });
});

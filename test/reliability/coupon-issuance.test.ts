/**
 * First come, first served under load: 1,000 users ask at once for a coupon of a
 * 100-coupon campaign, over HTTP against the API on PostgreSQL (issuance is one local
 * transaction, no Temporal). Exactly 100 get one (201), the other 900 are answered 409
 * `CouponSoldOut`, nobody gets two and the campaign counts exactly 100; then one user
 * sends 50 requests at once for a fresh campaign: exactly one 201 and 49 409
 * `CouponAlreadyIssued` naming that coupon. The coupon invariants hold after each race.
 * Connections are bounded on both sides: the HTTP client keeps at most
 * {@link HTTP_CONNECTIONS} sockets (the other requests queue behind them), the API its
 * database pool.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { Agent, request } from 'undici';
import type { CheckName } from '../../invariants/index.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { tokenFor } from '../helpers/auth.ts';
import { campaignCounts, createCampaign } from '../helpers/coupons.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';

const USERS = 1_000;
const QUANTITY = 100;
const SAME_USER_REQUESTS = 50;
/** Sockets the client opens to the API at most. */
const HTTP_CONNECTIONS = 64;

const COUPON_CHECKS: CheckName[] = [
  'coupons-within-campaign-quantity',
  'used-coupons-belong-to-confirmed-orders',
  'reserved-coupons-belong-to-pending-orders',
  'coupon-redemptions-match-coupons',
];

let api: TestApi;
let agent: Agent;

beforeAll(async () => {
  api = await startTestApi();
  agent = new Agent({ connections: HTTP_CONNECTIONS, pipelining: 1 });
});

afterAll(async () => {
  await agent?.close();
  await api?.close();
  expectNoContractViolations(api?.contract);
});

/** Creates `count` users in one statement; returns their ids. */
async function createUsers(count: number): Promise<number[]> {
  const rows = await api.orm.em.fork().execute<{ id: number }[]>(
    `insert into app_users (name, created_at) select 'coupon-race-' || i, now() from generate_series(1, ?) i returning id`,
    [count],
  );
  return rows.map((r) => r.id);
}

/** `POST /coupon-campaigns/<campaignId>/issues` with `token`: the status and the parsed body. */
async function issue(campaignId: number, token: string): Promise<{ status: number; body: any }> {
  const res = await request(new URL(`/coupon-campaigns/${campaignId}/issues`, api.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    dispatcher: agent,
  });
  return { status: res.statusCode, body: await res.body.json() };
}

/** How many answers had each `status code` (e.g. `{ '201 -': 100, '409 CouponSoldOut': 900 }`). */
function tally(answers: { status: number; body: any }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = `${a.status} ${a.status === 201 ? '-' : a.body?.code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Fails with the report unless every coupon check of `campaignId` passes. */
async function expectCouponInvariants(campaignId: number): Promise<void> {
  const report = await checkInvariants(api.orm, { scope: { campaignIds: [campaignId] } });
  const failed = report.checks.filter((c) => COUPON_CHECKS.includes(c.name) && !c.passed);
  if (failed.length > 0) throw new Error(formatInvariantReport({ checks: failed, ok: false }));
}

describe('coupon issuance under load', () => {
  it(`issues exactly ${QUANTITY} coupons to ${USERS} users asking at once; the rest are sold out`, async () => {
    const campaignId = await createCampaign(api.orm, { quantity: QUANTITY });
    const userIds = await createUsers(USERS);
    // Tokens first, so that signing does not stagger the requests.
    const tokens = await Promise.all(userIds.map((id) => tokenFor(id)));

    const started = Date.now();
    const answers = await Promise.all(tokens.map((token) => issue(campaignId, token)));
    const elapsedMs = Date.now() - started;

    expect(tally(answers)).toEqual({ '201 -': QUANTITY, '409 CouponSoldOut': USERS - QUANTITY });
    const winners = answers.filter((a) => a.status === 201).map((a) => a.body.userId as number);
    expect(new Set(winners).size).toBe(QUANTITY);
    expect(await campaignCounts(api.orm, campaignId)).toEqual({ issuedCount: QUANTITY, coupons: QUANTITY, holders: [...winners].sort((a, b) => a - b) });
    await expectCouponInvariants(campaignId);
    expect(elapsedMs).toBeLessThan(60_000);
  });

  it(`gives one user one coupon of ${SAME_USER_REQUESTS} requests sent at once; the others are told it is already issued`, async () => {
    const campaignId = await createCampaign(api.orm, { quantity: QUANTITY });
    const [userId] = await createUsers(1);
    const token = await tokenFor(userId!);

    const answers = await Promise.all(Array.from({ length: SAME_USER_REQUESTS }, () => issue(campaignId, token)));

    expect(tally(answers)).toEqual({ '201 -': 1, '409 CouponAlreadyIssued': SAME_USER_REQUESTS - 1 });
    const coupon = answers.find((a) => a.status === 201)!.body;
    for (const refused of answers.filter((a) => a.status === 409)) expect(refused.body.coupon).toEqual(coupon);
    expect(await campaignCounts(api.orm, campaignId)).toEqual({ issuedCount: 1, coupons: 1, holders: [userId] });
    await expectCouponInvariants(campaignId);
  });
});

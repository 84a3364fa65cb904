/**
 * Coupon checks: a campaign never issues more coupons than its quantity and counts every
 * one (`issued_count` = its coupons; one per user per campaign is structural, through the
 * unique index on (campaign_id, user_id)); a USED coupon belongs to exactly one CONFIRMED
 * order; a RESERVED coupon to a PENDING order (none to a closed one); and every order's
 * redemption agrees with its coupon.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ResolvedScope } from './scope.ts';
import { raw, rows, sql, within, type Fragment } from './sql.ts';
import { result, type CheckResult, type InvariantNote, type Violation } from './types.ts';

/** The coupons (alias `k`) in `scope`: of its campaigns, of its users, or held by its orders. */
function couponsWithin(scope: ResolvedScope | undefined): Fragment {
  if (!scope) return raw('true');
  return sql`(${within('k.campaign_id', scope.campaigns, 'int')} or ${within('k.user_id', scope.users, 'int')} or ${within('k.order_id', scope.orders, 'uuid')})`;
}

/**
 * `coupons-within-campaign-quantity`: per campaign, coupons issued <= quantity and
 * `issued_count` = the number of its coupons.
 */
export async function couponsWithinCampaignQuantity(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'coupons-within-campaign-quantity';
  const found = await rows<{ id: number; quantity: number; issued_count: number; coupons: number }>(
    em,
    sql`select c.id, c.quantity, c.issued_count, count(k.id)::int as coupons
        from coupon_campaigns c left join coupons k on k.campaign_id = c.id
        where ${within('c.id', scope?.campaigns, 'int')}
        group by c.id
        having count(k.id) > c.quantity or count(k.id) <> c.issued_count or c.issued_count > c.quantity
        order by c.id`,
  );
  return result(check, found.map((c) => {
    const over = Math.max(c.coupons, c.issued_count) > c.quantity;
    return {
      check,
      rule: over ? 'a campaign issues at most its quantity' : 'a campaign\'s issued_count counts its coupons',
      ids: { campaignId: c.id },
      expected: over ? `at most ${c.quantity} coupons` : `${c.coupons} coupons counted`,
      found: `${c.coupons} coupons, issued_count ${c.issued_count}, quantity ${c.quantity}`,
    };
  }));
}

/**
 * `used-coupons-belong-to-confirmed-orders`: a USED coupon names a CONFIRMED order whose
 * `coupon_id` is that coupon, and a CONFIRMED order naming a coupon has it USED by itself
 * (so no coupon serves two confirmed orders).
 */
export async function usedCouponsBelongToConfirmedOrders(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'used-coupons-belong-to-confirmed-orders';
  const found = await rows<{ coupon_id: number; order_id: string | null; order_status: string | null; order_coupon_id: number | null; coupon_status: string | null; coupon_order_id: string | null; side: 'coupon' | 'order' }>(
    em,
    sql`select 'coupon' as side, k.id as coupon_id, k.order_id, o.status as order_status, o.coupon_id as order_coupon_id,
               k.status as coupon_status, k.order_id as coupon_order_id
        from coupons k left join orders o on o.id = k.order_id
        where k.status = 'USED' and ${couponsWithin(scope)}
          and (o.id is null or o.status <> 'CONFIRMED' or o.coupon_id is distinct from k.id)
        union all
        select 'order', o.coupon_id, o.id, o.status, o.coupon_id, k.status, k.order_id
        from orders o left join coupons k on k.id = o.coupon_id
        where o.status = 'CONFIRMED' and o.coupon_id is not null and ${within('o.id', scope?.orders, 'uuid')}
          and (k.id is null or k.status <> 'USED' or k.order_id is distinct from o.id)
        order by side, coupon_id`,
  );
  return result(check, found.map((r): Violation => r.side === 'coupon'
    ? {
        check,
        rule: 'a USED coupon belongs to a CONFIRMED order that names it',
        ids: { couponId: r.coupon_id, ...(r.order_id ? { orderId: r.order_id } : {}) },
        expected: `order ${r.order_id ?? '(none)'} CONFIRMED with coupon ${r.coupon_id}`,
        found: r.order_status === null ? 'no such order' : `order ${r.order_status} with coupon ${r.order_coupon_id ?? 'none'}`,
      }
    : {
        check,
        rule: 'a CONFIRMED order\'s coupon is USED by that order',
        ids: { orderId: r.order_id ?? '', couponId: r.coupon_id },
        expected: `coupon ${r.coupon_id} USED by order ${r.order_id}`,
        found: r.coupon_status === null ? 'no such coupon' : `coupon ${r.coupon_status} by order ${r.coupon_order_id ?? 'none'}`,
      }));
}

/**
 * `reserved-coupons-belong-to-pending-orders`: a RESERVED coupon is held by a PENDING
 * order; one held by a CANCELLED or CONFIRMED order (or by none) is a violation, one
 * still held by a COMPENSATION_FAILED order a note for the operator.
 */
export async function reservedCouponsBelongToPendingOrders(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'reserved-coupons-belong-to-pending-orders';
  const found = await rows<{ coupon_id: number; order_id: string | null; order_status: string | null }>(
    em,
    sql`select k.id as coupon_id, k.order_id, o.status as order_status
        from coupons k left join orders o on o.id = k.order_id
        where k.status = 'RESERVED' and ${couponsWithin(scope)} and (o.id is null or o.status <> 'PENDING')
        order by k.id`,
  );
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const r of found) {
    const ids = { couponId: r.coupon_id, ...(r.order_id ? { orderId: r.order_id } : {}) };
    if (r.order_status === 'COMPENSATION_FAILED') {
      notes.push({ check, kind: 'needs-operator', ids, detail: 'coupon still RESERVED by a COMPENSATION_FAILED order' });
      continue;
    }
    violations.push({
      check,
      rule: 'a RESERVED coupon is held by a PENDING order',
      ids,
      expected: `order ${r.order_id ?? '(none)'} PENDING`,
      found: r.order_status === null ? 'no such order' : `order ${r.order_status}`,
    });
  }
  return result(check, violations, notes);
}

/** One disagreement between a redemption and its coupon. */
interface RedemptionMismatch {
  order_id: string;
  coupon_id: number;
  redemption_status: string | null;
  coupon_status: string | null;
  coupon_order_id: string | null;
}

/**
 * `coupon-redemptions-match-coupons`: a RESERVED or USED redemption has its coupon in the
 * same status, held by the redemption's order; a RELEASED one's coupon is not held by that
 * order; and a RESERVED or USED coupon has its order's redemption.
 */
export async function couponRedemptionsMatchCoupons(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'coupon-redemptions-match-coupons';
  const found = await rows<RedemptionMismatch>(
    em,
    sql`select r.order_id, r.coupon_id, r.status as redemption_status, k.status as coupon_status, k.order_id as coupon_order_id
        from coupon_redemptions r left join coupons k on k.id = r.coupon_id
        where (${within('r.order_id', scope?.orders, 'uuid')} or (k.id is not null and ${couponsWithin(scope)}))
          and case when r.status = 'RELEASED' then k.order_id is not distinct from r.order_id and k.status in ('RESERVED', 'USED')
                   else k.id is null or k.status <> r.status or k.order_id is distinct from r.order_id end
        union all
        select k.order_id, k.id, null, k.status, k.order_id
        from coupons k
        where k.status in ('RESERVED', 'USED') and ${couponsWithin(scope)}
          and not exists (select 1 from coupon_redemptions r where r.order_id = k.order_id and r.coupon_id = k.id)
        order by coupon_id, order_id`,
  );
  return result(check, found.map((m) => ({
    check,
    rule: m.redemption_status === null ? 'a held coupon has its order\'s redemption' : 'a redemption agrees with its coupon',
    ids: { orderId: m.order_id ?? '', couponId: m.coupon_id },
    expected: m.redemption_status === null
      ? `a ${m.coupon_status} redemption of order ${m.order_id ?? '(none)'}`
      : m.redemption_status === 'RELEASED' ? `coupon not held by order ${m.order_id}` : `coupon ${m.redemption_status} by order ${m.order_id}`,
    found: m.coupon_status === null ? 'no such coupon' : `${m.redemption_status === null ? 'no redemption; ' : ''}coupon ${m.coupon_status} by order ${m.coupon_order_id ?? 'none'}`,
  })));
}

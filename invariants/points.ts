/**
 * Point checks: each user's balance is conserved, every unrefunded payment belongs to a
 * live or confirmed saga of its payer, and every refund returns exactly what was paid.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { unrefundedPayments as unrefundedPaymentsQuery, type UnrefundedPaymentRow } from '../db/orphans.ts';
import type { ResolvedScope } from './scope.ts';
import { rows, sql, within, type Fragment } from './sql.ts';
import { result, type CheckResult, type InvariantIds, type InvariantNote, type Violation } from './types.ts';

/** `point-conservation`: balance = top-ups - payments + refunds, per user. */
export async function pointConservation(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const found = await rows<{ user_id: number; balance_points: number; top_ups: string; payments: string; refunds: string }>(
    em,
    sql`select a.user_id, a.balance_points,
               coalesce(sum(l.amount_points) filter (where l.kind = 'TOP_UP'), 0)::text as top_ups,
               coalesce(sum(l.amount_points) filter (where l.kind = 'PAYMENT'), 0)::text as payments,
               coalesce(sum(l.amount_points) filter (where l.kind = 'REFUND'), 0)::text as refunds
        from point_accounts a left join point_ledger l on l.account_user_id = a.user_id
        where ${within('a.user_id', scope?.users, 'int')}
        group by a.user_id
        having a.balance_points <> coalesce(sum(l.amount_points) filter (where l.kind = 'TOP_UP'), 0)
                                 - coalesce(sum(l.amount_points) filter (where l.kind = 'PAYMENT'), 0)
                                 + coalesce(sum(l.amount_points) filter (where l.kind = 'REFUND'), 0)
        order by a.user_id`,
  );
  return result('point-conservation', found.map((u) => {
    const ledger = Number(u.top_ups) - Number(u.payments) + Number(u.refunds);
    return {
      check: 'point-conservation',
      rule: 'balance = top-ups - payments + refunds',
      ids: { userId: u.user_id },
      expected: `balance ${ledger} (top-ups ${u.top_ups} - payments ${u.payments} + refunds ${u.refunds})`,
      found: `balance ${u.balance_points}`,
    };
  }));
}

const PAYMENTS_CHECK = 'payments-belong-to-live-or-confirmed-sagas';

/**
 * `payments-belong-to-live-or-confirmed-sagas`: an unrefunded PAYMENT belongs to a
 * PENDING or CONFIRMED saga of its payer (COMPENSATION_FAILED: a note); a REFUND returns
 * exactly what its saga paid.
 */
export async function paymentsBelongToLiveOrConfirmedSagas(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const { violations, notes } = await unrefundedPayments(em, scope);
  violations.push(...(await wrongRefunds(em, scope)));
  return result(PAYMENTS_CHECK, violations, notes);
}

/** Ledger rows (aliased `alias`) of the scope's users or of its sagas. */
function ledgerInScope(alias: string, scope: ResolvedScope | undefined): Fragment {
  return sql`(${within(`${alias}.account_user_id`, scope?.users, 'int')} or ${within(`${alias}.reference`, scope?.workflowIds, 'text')})`;
}

type SagaRef = Pick<UnrefundedPaymentRow, 'order_id' | 'order_status' | 'order_user' | 'reservation_id' | 'reservation_status' | 'reservation_user'>;

async function unrefundedPayments(
  em: EntityManager,
  scope: ResolvedScope | undefined,
): Promise<{ violations: Violation[]; notes: InvariantNote[] }> {
  const unrefunded = await rows<UnrefundedPaymentRow>(em, unrefundedPaymentsQuery(ledgerInScope('p', scope)));
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  const check = PAYMENTS_CHECK;
  for (const pay of unrefunded) {
    const saga = sagaOf(pay);
    const ids: InvariantIds = { userId: pay.user_id, ledgerEntryId: Number(pay.ledger_id), reference: pay.reference, ...saga.ids };
    const refund = pay.refunded === null ? 'no refund' : `a refund of ${pay.refunded}`;
    if (!saga.status) {
      violations.push({ check, rule: 'a payment belongs to an order or reservation', ids, expected: 'a saga with this workflow id', found: `none (payment of ${pay.amount_points}, ${refund})` });
    } else if (saga.status === 'COMPENSATION_FAILED') {
      notes.push({ check, kind: 'needs-operator', ids, detail: `payment of ${pay.amount_points} (${refund}) on a COMPENSATION_FAILED saga` });
    } else if (saga.status !== 'PENDING' && saga.status !== 'CONFIRMED') {
      violations.push({ check, rule: 'an unrefunded payment belongs to a PENDING or CONFIRMED saga', ids, expected: 'saga PENDING or CONFIRMED, or the payment refunded', found: `saga ${saga.status}, payment of ${pay.amount_points} with ${refund}` });
    } else if (saga.user !== pay.user_id) {
      violations.push({ check, rule: 'a saga is paid by its own user', ids, expected: `payer user ${saga.user}`, found: `payer user ${pay.user_id}` });
    }
  }
  return { violations, notes };
}

function sagaOf(ref: SagaRef): { ids: InvariantIds; status: string | null; user: number | null } {
  if (ref.order_id) return { ids: { orderId: ref.order_id }, status: ref.order_status, user: ref.order_user };
  if (ref.reservation_id) return { ids: { reservationId: ref.reservation_id }, status: ref.reservation_status, user: ref.reservation_user };
  return { ids: {}, status: null, user: null };
}

/** REFUND rows that return other than what their saga paid (0 when it paid nothing). */
async function wrongRefunds(em: EntityManager, scope: ResolvedScope | undefined): Promise<Violation[]> {
  const badRefunds = await rows<{ ledger_id: string; user_id: number; reference: string; amount_points: number; paid: number | null }>(
    em,
    sql`select r.id::text as ledger_id, r.account_user_id as user_id, r.reference, r.amount_points, p.amount_points as paid
        from point_ledger r left join point_ledger p on p.reference = r.reference and p.kind = 'PAYMENT'
        where r.kind = 'REFUND' and ${ledgerInScope('r', scope)}
          and r.amount_points <> coalesce(p.amount_points, 0)
        order by r.id`,
  );
  return badRefunds.map((r) => ({
    check: PAYMENTS_CHECK,
    rule: 'a refund returns exactly what its saga paid',
    ids: { userId: r.user_id, ledgerEntryId: Number(r.ledger_id), reference: r.reference },
    expected: `refund ${r.paid ?? 0}`,
    found: `refund ${r.amount_points}`,
  }));
}

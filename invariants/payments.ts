/**
 * Payment checks: every payment row of the Payments context matches the point-ledger rows
 * of its saga, and every PAYMENT ledger row has its payment row. Point conservation itself
 * is points.ts's.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ResolvedScope } from './scope.ts';
import { rows, sql, within } from './sql.ts';
import { result, type CheckResult, type InvariantIds, type Violation } from './types.ts';

const CHECK = 'payments-match-ledger';

/** A payment and its saga's ledger rows, where they disagree (either side may be missing). */
interface MismatchRow {
  saga_id: string;
  payment_id: number | null;
  payment_user: number | null;
  status: 'PAID' | 'REFUNDED' | null;
  amount_won: number | null;
  refunded_at_set: boolean | null;
  debit_id: number | null;
  debit_user: number | null;
  debit: number | null;
  refund_id: number | null;
  refund: number | null;
}

/**
 * `payments-match-ledger`: a PAID payment has exactly one PAYMENT ledger row of its amount
 * and user and no REFUND row, and no `refunded_at`; a REFUNDED payment has the PAYMENT
 * and a REFUND of the same amount, and its `refunded_at`; every PAYMENT ledger row has a
 * payment row (the saga's). Scoped to the scope's users and sagas, on either side.
 */
export async function paymentsMatchLedger(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const found = await rows<MismatchRow>(
    em,
    sql`select coalesce(pay.saga_id, d.reference) as saga_id, pay.id as payment_id, pay.user_id as payment_user,
               pay.status, pay.amount_won, pay.refunded_at is not null as refunded_at_set,
               d.id as debit_id, d.account_user_id as debit_user, d.amount_points as debit,
               r.id as refund_id, r.amount_points as refund
        from payments pay
        full join (select * from point_ledger where kind = 'PAYMENT') d on d.reference = pay.saga_id
        left join point_ledger r on r.reference = coalesce(pay.saga_id, d.reference) and r.kind = 'REFUND'
        where (${within('pay.user_id', scope?.users, 'int')} or ${within('pay.saga_id', scope?.workflowIds, 'text')}
               or ${within('d.account_user_id', scope?.users, 'int')} or ${within('d.reference', scope?.workflowIds, 'text')})
          and (pay.id is null or d.id is null or d.amount_points <> pay.amount_won or d.account_user_id <> pay.user_id
               or (pay.status = 'PAID' and (r.id is not null or pay.refunded_at is not null))
               or (pay.status = 'REFUNDED' and (r.id is null or r.amount_points <> pay.amount_won or pay.refunded_at is null)))
        order by 1`,
  );
  return result(CHECK, found.map(describe));
}

/** The broken rule of one mismatch, checked in the order a reader would look. */
function describe(row: MismatchRow): Violation {
  const ids: InvariantIds = { sagaId: row.saga_id };
  if (row.payment_id !== null) ids.paymentId = Number(row.payment_id);
  if (row.debit_id !== null) ids.ledgerEntryId = Number(row.debit_id);
  const violation = (rule: string, expected: string, found: string): Violation => ({ check: CHECK, rule, ids, expected, found });
  if (row.payment_id === null) {
    return violation('every PAYMENT ledger row has its payment row', `a payment of ${row.debit} for the saga`, `no payment row (user ${row.debit_user})`);
  }
  if (row.debit_id === null) {
    return violation('a payment has its PAYMENT ledger row', `a PAYMENT of ${row.amount_won}`, `no PAYMENT row (payment ${row.status})`);
  }
  if (row.debit !== row.amount_won || row.debit_user !== row.payment_user) {
    return violation(
      'a payment and its PAYMENT ledger row agree',
      `PAYMENT of ${row.amount_won} by user ${row.payment_user}`,
      `PAYMENT of ${row.debit} by user ${row.debit_user}`,
    );
  }
  const refund = row.refund_id === null ? 'no REFUND' : `a REFUND of ${row.refund}`;
  if (row.status === 'PAID') {
    return violation('a PAID payment has no refund', 'no REFUND row and no refunded_at', `${refund}${row.refunded_at_set ? ', refunded_at set' : ''}`);
  }
  return violation(
    'a REFUNDED payment has a REFUND of its amount',
    `a REFUND of ${row.amount_won} and refunded_at set`,
    `${refund}${row.refunded_at_set ? '' : ', refunded_at null'}`,
  );
}

/**
 * Saga checks: a closed (CANCELLED or EXPIRED) saga has undone all its effects, and a
 * CONFIRMED one has all of them, paid once by its own user.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ResolvedScope } from './scope.ts';
import { raw, rows, sagasWhere, sql, within, type Fragment } from './sql.ts';
import { result, sagaIds, type CheckResult, type InvariantIds, type SagaKind, type Violation } from './types.ts';

const CLOSED_CHECK = 'closed-sagas-have-no-effects';
const CONFIRMED_CHECK = 'confirmed-sagas-are-complete';

/**
 * `closed-sagas-have-no-effects`: a CANCELLED order holds no stock, and a CANCELLED or
 * EXPIRED order or reservation keeps no payment and holds no seat.
 */
export async function closedSagasHaveNoEffects(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  return result(CLOSED_CHECK, [
    ...(await stockOfCancelledOrders(em, scope)),
    ...(await paymentsOfClosedSagas(em, scope)),
    ...(await seatsOfClosedReservations(em, scope)),
  ]);
}

async function stockOfCancelledOrders(em: EntityManager, scope: ResolvedScope | undefined): Promise<Violation[]> {
  const stockLines = await rows<{ order_id: string; status: string; product_id: number; line_status: string; quantity: number }>(
    em,
    sql`select o.id as order_id, o.status, r.product_id, r.status as line_status, r.quantity
        from orders o join stock_reservations r on r.order_id = o.id
        where o.status = 'CANCELLED' and r.status in ('RESERVED', 'COMMITTED') and ${within('o.id', scope?.orders, 'uuid')}
        order by o.id, r.product_id`,
  );
  return stockLines.map((l) => ({
    check: CLOSED_CHECK,
    rule: `a ${l.status} order holds no stock`,
    ids: { orderId: l.order_id, productId: l.product_id },
    expected: 'stock line RELEASED',
    found: `${l.quantity} units ${l.line_status}`,
  }));
}

async function paymentsOfClosedSagas(em: EntityManager, scope: ResolvedScope | undefined): Promise<Violation[]> {
  const closed = sagasWhere(
    sql`status = 'CANCELLED' and ${within('id', scope?.orders, 'uuid')}`,
    sql`status in ('CANCELLED', 'EXPIRED') and ${within('id', scope?.reservations, 'uuid')}`,
  );
  const payments = await rows<{ kind: SagaKind; id: string; status: string; user_id: number; ledger_id: string; amount_points: number; refunded: number | null }>(
    em,
    sql`select s.kind, s.id, s.status, p.account_user_id as user_id, p.id::text as ledger_id, p.amount_points, r.amount_points as refunded
        from ${closed} s
        join point_ledger p on p.reference = s.workflow_id and p.kind = 'PAYMENT'
        left join point_ledger r on r.reference = s.workflow_id and r.kind = 'REFUND'
        where r.amount_points is distinct from p.amount_points
        order by s.kind, s.id`,
  );
  return payments.map((p) => ({
    check: CLOSED_CHECK,
    rule: `a ${p.status} ${p.kind} keeps no payment`,
    ids: { ...sagaIds(p.kind, p.id), userId: p.user_id, ledgerEntryId: Number(p.ledger_id) },
    expected: `payment of ${p.amount_points} refunded in full`,
    found: p.refunded === null ? 'no refund' : `refund of ${p.refunded}`,
  }));
}

async function seatsOfClosedReservations(em: EntityManager, scope: ResolvedScope | undefined): Promise<Violation[]> {
  const seats = await rows<{ reservation_id: string; status: string; seat_id: number; seat_status: string }>(
    em,
    sql`select res.id as reservation_id, res.status, s.id as seat_id, s.status as seat_status
        from reservations res join seats s on s.reservation_id = res.id
        where res.status in ('CANCELLED', 'EXPIRED') and ${within('res.id', scope?.reservations, 'uuid')}
        order by res.id, s.id`,
  );
  return seats.map((s) => ({
    check: CLOSED_CHECK,
    rule: `a ${s.status} reservation holds no seat`,
    ids: { reservationId: s.reservation_id, seatId: s.seat_id },
    expected: 'seat AVAILABLE or another reservation\'s',
    found: `seat ${s.seat_status} by this reservation`,
  }));
}

/**
 * `confirmed-sagas-are-complete`: a CONFIRMED order has every line COMMITTED, a CONFIRMED
 * reservation all its seats RESERVED by it; each is paid its total once by its own user
 * and not refunded.
 */
export async function confirmedSagasAreComplete(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const orders = await rows<ConfirmedSaga>(
    em,
    sql`select o.id, o.user_id, o.total_won, ${PAYMENT_COLUMNS},
               array(select l.product_id from order_lines l
                     where l.order_id = o.id and not exists (
                       select 1 from stock_reservations sr where sr.order_id = l.order_id and sr.product_id = l.product_id
                         and sr.status = 'COMMITTED' and sr.quantity = l.quantity)
                     order by l.product_id) as missing
        from orders o ${ledgerOf('o')}
        where o.status = 'CONFIRMED' and ${within('o.id', scope?.orders, 'uuid')}
        order by o.id`,
  );
  const reservations = await rows<ConfirmedSaga>(
    em,
    sql`select res.id, res.user_id, res.total_won, ${PAYMENT_COLUMNS},
               array(select x::int from jsonb_array_elements_text(res.seat_ids) as x
                     where not exists (select 1 from seats s where s.id = x::int and s.status = 'RESERVED' and s.reservation_id = res.id)
                     order by x::int) as missing
        from reservations res ${ledgerOf('res')}
        where res.status = 'CONFIRMED' and ${within('res.id', scope?.reservations, 'uuid')}
        order by res.id`,
  );
  return result(CONFIRMED_CHECK, [
    ...orders.flatMap((o) => incompleteSaga('order', o, {
      idsKey: 'productIds',
      rule: 'a CONFIRMED order has every line COMMITTED',
      expected: 'a COMMITTED stock line of the line\'s quantity',
      found: 'none',
    })),
    ...reservations.flatMap((res) => incompleteSaga('reservation', res, {
      idsKey: 'seatIds',
      rule: 'a CONFIRMED reservation has all its seats RESERVED by it',
      expected: 'seats RESERVED by this reservation',
      found: 'not RESERVED by it',
    })),
  ]);
}

/** A CONFIRMED saga with the ids of its missing effects (lines or seats) and its ledger rows. */
interface ConfirmedSaga {
  id: string;
  user_id: number;
  total_won: number;
  missing: number[];
  paid: number | null;
  payer: number | null;
  refunded: number | null;
}

/** The saga's PAYMENT amount and payer and its REFUND amount, from {@link ledgerOf}. */
const PAYMENT_COLUMNS = raw('p.amount_points as paid, p.account_user_id as payer, r.amount_points as refunded');

/** Left joins of the PAYMENT (`p`) and REFUND (`r`) rows of the saga aliased `saga`. */
function ledgerOf(saga: string): Fragment {
  return raw(`left join point_ledger p on p.reference = ${saga}.workflow_id and p.kind = 'PAYMENT'
        left join point_ledger r on r.reference = ${saga}.workflow_id and r.kind = 'REFUND'`);
}

/** What a missing effect of a CONFIRMED saga is reported as; `idsKey` names the missing ids. */
interface MissingEffect {
  idsKey: 'productIds' | 'seatIds';
  rule: string;
  expected: string;
  found: string;
}

function incompleteSaga(kind: SagaKind, saga: ConfirmedSaga, missing: MissingEffect): Violation[] {
  const check = CONFIRMED_CHECK;
  const ids = sagaIds(kind, saga.id);
  const out: Violation[] = [];
  if (saga.missing.length > 0) {
    out.push({ check, rule: missing.rule, ids: { ...ids, [missing.idsKey]: saga.missing }, expected: missing.expected, found: missing.found });
  }
  out.push(...paymentViolations(kind, ids, saga));
  return out;
}

function paymentViolations(kind: SagaKind, ids: InvariantIds, saga: ConfirmedSaga): Violation[] {
  const check = CONFIRMED_CHECK;
  const out: Violation[] = [];
  if (saga.paid !== saga.total_won) {
    out.push({ check, rule: `a CONFIRMED ${kind} is paid its total`, ids, expected: `one PAYMENT of ${saga.total_won}`, found: saga.paid === null ? 'no PAYMENT' : `PAYMENT of ${saga.paid}` });
  } else if (saga.payer !== saga.user_id) {
    out.push({ check, rule: `a CONFIRMED ${kind} is paid by its user`, ids, expected: `payer user ${saga.user_id}`, found: `payer user ${saga.payer}` });
  }
  if (saga.refunded !== null) {
    out.push({ check, rule: `a CONFIRMED ${kind} is not refunded`, ids, expected: 'no REFUND', found: `REFUND of ${saga.refunded}` });
  }
  return out;
}

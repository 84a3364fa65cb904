/**
 * The invariants of the design ("Invariants that must hold"), checked against the
 * database in one REPEATABLE READ, read-only transaction, so every check sees the same
 * snapshot. Each activity is one local transaction, so every invariant except data-platform
 * delivery holds at any committed snapshot, even while sagas are running; delivery holds
 * once the sagas have finished (or, with `allowInFlight`, reports the ones still sending).
 *
 * Used by tests (scoped to their own rows, since other suites share the database) and by
 * `npm run check:invariants` (everything).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { confirmedEventId } from '../common/ids.ts';
import type { Orm } from './orm.ts';

/** Ids of the rows a violation or note is about, e.g. `{ orderId, productId }`. */
export type InvariantIds = Record<string, string | number | number[]>;

/**
 * One broken rule: which rows (`ids`), the rule (`rule`), what the rule expects and what
 * the database holds instead.
 */
export interface Violation {
  /** Name of the check that found it (one of {@link CHECK_NAMES}). */
  check: CheckName;
  /** Short statement of the rule that is broken. */
  rule: string;
  ids: InvariantIds;
  expected: string;
  found: string;
}

/**
 * Something an operator should know that is not (yet) a violation: `needs-operator` for
 * effects left by a COMPENSATION_FAILED saga (the design's "distinct state" for a
 * compensation that failed for good), `in-flight` for a confirmed saga whose event is still
 * being delivered (only with `allowInFlight`).
 */
export interface InvariantNote {
  check: CheckName;
  kind: 'needs-operator' | 'in-flight';
  ids: InvariantIds;
  detail: string;
}

/** Outcome of one check. `skipped` says why a check did not run (it then passes). */
export interface CheckResult {
  name: CheckName;
  /** What the check asserts, one sentence. */
  description: string;
  passed: boolean;
  violations: Violation[];
  notes: InvariantNote[];
  skipped?: string;
}

/** Outcome of {@link checkInvariants}: `ok` when no check found a violation. */
export interface InvariantReport {
  checks: CheckResult[];
  ok: boolean;
}

/**
 * Restricts the check to some rows, so a test can check its own while other suites use the
 * same database. Related rows join the scope: the orders and reservations of `userIds`,
 * the orders with a line on `productIds`, the reservations of `performanceIds`; then the
 * products, users and performances of those orders and reservations. Per-product and
 * per-user sums always count every row of that product or user.
 */
export interface InvariantScope {
  productIds?: readonly number[];
  userIds?: readonly number[];
  performanceIds?: readonly number[];
  orderIds?: readonly string[];
  reservationIds?: readonly string[];
}

/** An event as the mock data platform lists it (`GET /events`); only `eventId` is needed. */
export interface ReceivedEventLike {
  eventId: string;
  attempts?: number;
}

/** Options of {@link checkInvariants}. */
export interface InvariantOptions {
  /** Check only these rows (and the rows related to them); without it, everything. */
  scope?: InvariantScope;
  /**
   * Events the data platform received (e.g. `GET /events` or `DataPlatformServer.events()`).
   * With this or `deliveredEventIds`, the delivery check runs; without either it is skipped.
   */
  receivedEvents?: readonly ReceivedEventLike[];
  /** Event ids the data platform received, when the attempts are not known. */
  deliveredEventIds?: ReadonlySet<string>;
  /**
   * Report a CONFIRMED saga whose event is missing as `in-flight` (a note) rather than a
   * violation while its delivery row is still PENDING or not written yet.
   */
  allowInFlight?: boolean;
}

/** Names of the checks, in the order they run and are reported. */
export const CHECK_NAMES = [
  'stock-conservation',
  'stock-lines-match-orders',
  'point-conservation',
  'payments-belong-to-live-or-confirmed-sagas',
  'closed-sagas-have-no-effects',
  'confirmed-sagas-are-complete',
  'seats-have-one-live-holder',
  'data-platform-delivery',
] as const;

/** One of {@link CHECK_NAMES}. */
export type CheckName = (typeof CHECK_NAMES)[number];

const DESCRIPTIONS: Record<CheckName, string> = {
  'stock-conservation':
    'for each product: initial_stock = stock + units on RESERVED stock lines + units on COMMITTED (sold) stock lines',
  'stock-lines-match-orders':
    'a RESERVED stock line belongs to a PENDING order, a COMMITTED one to a CONFIRMED order (COMPENSATION_FAILED: needs operator)',
  'point-conservation': 'for each user: sum(TOP_UP) - sum(PAYMENT) + sum(REFUND) = balance',
  'payments-belong-to-live-or-confirmed-sagas':
    'every PAYMENT not refunded in full belongs to a PENDING or CONFIRMED order or reservation of the paying user; every REFUND returns exactly what its saga paid (0 when nothing was paid)',
  'closed-sagas-have-no-effects':
    'a CANCELLED or EXPIRED order or reservation has no RESERVED/COMMITTED stock line, no unrefunded payment and no HELD/RESERVED seat',
  'confirmed-sagas-are-complete':
    'a CONFIRMED order has every line COMMITTED and one PAYMENT equal to its total, no REFUND; a CONFIRMED reservation has all its seats RESERVED by it and one PAYMENT equal to its total, no REFUND',
  'seats-have-one-live-holder':
    'a HELD seat is held by a PENDING reservation that lists it, a RESERVED seat by a CONFIRMED reservation that lists it',
  'data-platform-delivery':
    'the event of every CONFIRMED order and reservation was received exactly once, and no event was received for a saga that is not CONFIRMED',
};

/**
 * Checks every invariant in one consistent snapshot (REPEATABLE READ, read only) and
 * returns each check's violations; writes nothing.
 *
 * A defect can show in two checks (a payment left on a CANCELLED order breaks both
 * `payments-belong-to-live-or-confirmed-sagas` and `closed-sagas-have-no-effects`): each
 * check is complete for its own rule.
 *
 * @param orm an open ORM; the check forks its own EntityManager.
 * @param options scope, data-platform events and in-flight tolerance; see {@link InvariantOptions}.
 * @returns the checks in {@link CHECK_NAMES} order and whether all passed.
 */
export async function checkInvariants(orm: Orm, options: InvariantOptions = {}): Promise<InvariantReport> {
  const checks = await orm.em.fork().transactional(
    async (em) => {
      const scope = options.scope ? await resolveScope(em, options.scope) : undefined;
      return [
        await stockConservation(em, scope),
        await stockLinesMatchOrders(em, scope),
        await pointConservation(em, scope),
        await paymentsBelongToLiveOrConfirmedSagas(em, scope),
        await closedSagasHaveNoEffects(em, scope),
        await confirmedSagasAreComplete(em, scope),
        await seatsHaveOneLiveHolder(em, scope),
        await dataPlatformDelivery(em, scope, options),
      ];
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  return { checks, ok: checks.every((c) => c.passed) };
}

/**
 * Renders a report as text, one line per check (✓/✗), then one indented line per
 * violation and note with its ids, expected and found values.
 */
export function formatInvariantReport(report: InvariantReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    const mark = check.passed ? '✓' : '✗';
    const tail = check.skipped
      ? ` (skipped: ${check.skipped})`
      : check.passed
        ? ''
        : ` (${plural(check.violations.length, 'violation')})`;
    lines.push(`${mark} ${check.name}${tail}`);
    for (const v of check.violations) {
      lines.push(`    ✗ ${formatIds(v.ids)}: ${v.rule}; expected ${v.expected}, found ${v.found}`);
    }
    for (const n of check.notes) {
      lines.push(`    ! ${n.kind} ${formatIds(n.ids)}: ${n.detail}`);
    }
  }
  const violations = report.checks.reduce((sum, c) => sum + c.violations.length, 0);
  lines.push(report.ok ? 'all invariants hold' : plural(violations, 'violation'));
  return lines.join('\n');
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function formatIds(ids: InvariantIds): string {
  return Object.entries(ids)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : v}`)
    .join(' ');
}

// ---------------------------------------------------------------------------------------
// Scope

/** A scope resolved to concrete ids; `undefined` for a kind means "every row". */
interface ResolvedScope {
  orders: string[];
  reservations: string[];
  products: number[];
  users: number[];
  performances: number[];
  workflowIds: string[];
}

async function resolveScope(em: EntityManager, scope: InvariantScope): Promise<ResolvedScope> {
  const orderIds = json(scope.orderIds ?? []);
  const userIds = json(scope.userIds ?? []);
  const productIds = json(scope.productIds ?? []);
  const performanceIds = json(scope.performanceIds ?? []);
  const reservationIds = json(scope.reservationIds ?? []);
  const orders = await rows<{ id: string; user_id: number; workflow_id: string }>(
    em,
    sql`select o.id, o.user_id, o.workflow_id from orders o
        where o.id::text in (select jsonb_array_elements_text(${orderIds}::jsonb))
           or o.user_id in (select jsonb_array_elements_text(${userIds}::jsonb)::int)
           or exists (select 1 from order_lines l where l.order_id = o.id
                      and l.product_id in (select jsonb_array_elements_text(${productIds}::jsonb)::int))`,
  );
  const reservations = await rows<{ id: string; user_id: number; performance_id: number; workflow_id: string }>(
    em,
    sql`select r.id, r.user_id, r.performance_id, r.workflow_id from reservations r
        where r.id::text in (select jsonb_array_elements_text(${reservationIds}::jsonb))
           or r.user_id in (select jsonb_array_elements_text(${userIds}::jsonb)::int)
           or r.performance_id in (select jsonb_array_elements_text(${performanceIds}::jsonb)::int)`,
  );
  const lineProducts = await rows<{ product_id: number }>(
    em,
    sql`select distinct product_id from order_lines where order_id::text in (select jsonb_array_elements_text(${json(orders.map((o) => o.id))}::jsonb))`,
  );
  return {
    orders: orders.map((o) => o.id),
    reservations: reservations.map((r) => r.id),
    products: unique([...(scope.productIds ?? []), ...lineProducts.map((l) => l.product_id)]),
    users: unique([...(scope.userIds ?? []), ...orders.map((o) => o.user_id), ...reservations.map((r) => r.user_id)]),
    performances: unique([...(scope.performanceIds ?? []), ...reservations.map((r) => r.performance_id)]),
    workflowIds: [...orders.map((o) => o.workflow_id), ...reservations.map((r) => r.workflow_id)],
  };
}

/** `column` is one of `ids` (`type`: its SQL type), or `true` when unscoped. */
function within(column: string, ids: readonly (string | number)[] | undefined, type: 'int' | 'uuid' | 'text'): Fragment {
  if (ids === undefined) return raw('true');
  const cast = type === 'text' ? '' : `::${type}`;
  return { text: `${column} in (select jsonb_array_elements_text(?::jsonb)${cast})`, params: [json(ids)] };
}

// ---------------------------------------------------------------------------------------
// Checks

async function stockConservation(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const found = await rows<{ id: number; initial_stock: number; stock: number; reserved: number; committed: number }>(
    em,
    sql`select p.id, p.initial_stock, p.stock,
               coalesce(sum(r.quantity) filter (where r.status = 'RESERVED'), 0)::int as reserved,
               coalesce(sum(r.quantity) filter (where r.status = 'COMMITTED'), 0)::int as committed
        from products p left join stock_reservations r on r.product_id = p.id
        where ${within('p.id', scope?.products, 'int')}
        group by p.id
        having p.initial_stock <> p.stock + coalesce(sum(r.quantity) filter (where r.status in ('RESERVED', 'COMMITTED')), 0)
        order by p.id`,
  );
  return result('stock-conservation', found.map((p) => ({
    check: 'stock-conservation',
    rule: 'initial stock = stock + reserved + sold',
    ids: { productId: p.id },
    expected: `initial_stock ${p.initial_stock}`,
    found: `${p.stock + p.reserved + p.committed} (stock ${p.stock} + reserved ${p.reserved} + committed ${p.committed})`,
  })));
}

async function stockLinesMatchOrders(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const found = await rows<{ order_id: string; product_id: number; line_status: string; quantity: number; order_status: string }>(
    em,
    sql`select r.order_id, r.product_id, r.status as line_status, r.quantity, o.status as order_status
        from stock_reservations r join orders o on o.id = r.order_id
        where (${within('o.id', scope?.orders, 'uuid')} or ${within('r.product_id', scope?.products, 'int')})
          and ((r.status = 'RESERVED' and o.status <> 'PENDING') or (r.status = 'COMMITTED' and o.status <> 'CONFIRMED'))
        order by r.order_id, r.product_id`,
  );
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const line of found) {
    const ids = { orderId: line.order_id, productId: line.product_id };
    if (line.line_status === 'RESERVED' && line.order_status === 'COMPENSATION_FAILED') {
      notes.push({
        check: 'stock-lines-match-orders',
        kind: 'needs-operator',
        ids,
        detail: `${line.quantity} units still RESERVED by a COMPENSATION_FAILED order`,
      });
      continue;
    }
    const wanted = line.line_status === 'RESERVED' ? 'PENDING' : 'CONFIRMED';
    violations.push({
      check: 'stock-lines-match-orders',
      rule: `a ${line.line_status} stock line belongs to a ${wanted} order`,
      ids,
      expected: `order ${wanted}`,
      found: `order ${line.order_status} with ${line.quantity} units ${line.line_status}`,
    });
  }
  return result('stock-lines-match-orders', violations, notes);
}

async function pointConservation(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
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

interface SagaRef {
  order_id: string | null;
  order_status: string | null;
  order_user: number | null;
  reservation_id: string | null;
  reservation_status: string | null;
  reservation_user: number | null;
}

async function paymentsBelongToLiveOrConfirmedSagas(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const ledgerScope = sql`(${within('p.account_user_id', scope?.users, 'int')} or ${within('p.reference', scope?.workflowIds, 'text')})`;
  const unrefunded = await rows<SagaRef & { ledger_id: string; user_id: number; reference: string; amount_points: number; refunded: number | null }>(
    em,
    sql`select p.id::text as ledger_id, p.account_user_id as user_id, p.reference, p.amount_points, r.amount_points as refunded,
               o.id as order_id, o.status as order_status, o.user_id as order_user,
               s.id as reservation_id, s.status as reservation_status, s.user_id as reservation_user
        from point_ledger p
        left join point_ledger r on r.reference = p.reference and r.kind = 'REFUND'
        left join orders o on o.workflow_id = p.reference
        left join reservations s on s.workflow_id = p.reference
        where p.kind = 'PAYMENT' and ${ledgerScope}
          and r.amount_points is distinct from p.amount_points
        order by p.id`,
  );
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  const check = 'payments-belong-to-live-or-confirmed-sagas';
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
  const badRefunds = await rows<{ ledger_id: string; user_id: number; reference: string; amount_points: number; paid: number | null }>(
    em,
    sql`select r.id::text as ledger_id, r.account_user_id as user_id, r.reference, r.amount_points, p.amount_points as paid
        from point_ledger r left join point_ledger p on p.reference = r.reference and p.kind = 'PAYMENT'
        where r.kind = 'REFUND' and ${sql`(${within('r.account_user_id', scope?.users, 'int')} or ${within('r.reference', scope?.workflowIds, 'text')})`}
          and r.amount_points <> coalesce(p.amount_points, 0)
        order by r.id`,
  );
  for (const r of badRefunds) {
    violations.push({
      check,
      rule: 'a refund returns exactly what its saga paid',
      ids: { userId: r.user_id, ledgerEntryId: Number(r.ledger_id), reference: r.reference },
      expected: `refund ${r.paid ?? 0}`,
      found: `refund ${r.amount_points}`,
    });
  }
  return result(check, violations, notes);
}

function sagaOf(ref: SagaRef): { ids: InvariantIds; status: string | null; user: number | null } {
  if (ref.order_id) return { ids: { orderId: ref.order_id }, status: ref.order_status, user: ref.order_user };
  if (ref.reservation_id) return { ids: { reservationId: ref.reservation_id }, status: ref.reservation_status, user: ref.reservation_user };
  return { ids: {}, status: null, user: null };
}

async function closedSagasHaveNoEffects(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'closed-sagas-have-no-effects';
  const violations: Violation[] = [];
  const stockLines = await rows<{ order_id: string; status: string; product_id: number; line_status: string; quantity: number }>(
    em,
    sql`select o.id as order_id, o.status, r.product_id, r.status as line_status, r.quantity
        from orders o join stock_reservations r on r.order_id = o.id
        where o.status = 'CANCELLED' and r.status in ('RESERVED', 'COMMITTED') and ${within('o.id', scope?.orders, 'uuid')}
        order by o.id, r.product_id`,
  );
  for (const l of stockLines) {
    violations.push({
      check,
      rule: `a ${l.status} order holds no stock`,
      ids: { orderId: l.order_id, productId: l.product_id },
      expected: 'stock line RELEASED',
      found: `${l.quantity} units ${l.line_status}`,
    });
  }
  const payments = await rows<{ kind: 'order' | 'reservation'; id: string; status: string; user_id: number; ledger_id: string; amount_points: number; refunded: number | null }>(
    em,
    sql`select s.kind, s.id, s.status, p.account_user_id as user_id, p.id::text as ledger_id, p.amount_points, r.amount_points as refunded
        from (select 'order' as kind, id::text as id, status, workflow_id from orders
                where status = 'CANCELLED' and ${within('id', scope?.orders, 'uuid')}
              union all
              select 'reservation', id::text, status, workflow_id from reservations
                where status in ('CANCELLED', 'EXPIRED') and ${within('id', scope?.reservations, 'uuid')}) s
        join point_ledger p on p.reference = s.workflow_id and p.kind = 'PAYMENT'
        left join point_ledger r on r.reference = s.workflow_id and r.kind = 'REFUND'
        where r.amount_points is distinct from p.amount_points
        order by s.kind, s.id`,
  );
  for (const p of payments) {
    violations.push({
      check,
      rule: `a ${p.status} ${p.kind} keeps no payment`,
      ids: { [p.kind === 'order' ? 'orderId' : 'reservationId']: p.id, userId: p.user_id, ledgerEntryId: Number(p.ledger_id) },
      expected: `payment of ${p.amount_points} refunded in full`,
      found: p.refunded === null ? 'no refund' : `refund of ${p.refunded}`,
    });
  }
  const seats = await rows<{ reservation_id: string; status: string; seat_id: number; seat_status: string }>(
    em,
    sql`select res.id as reservation_id, res.status, s.id as seat_id, s.status as seat_status
        from reservations res join seats s on s.reservation_id = res.id
        where res.status in ('CANCELLED', 'EXPIRED') and ${within('res.id', scope?.reservations, 'uuid')}
        order by res.id, s.id`,
  );
  for (const s of seats) {
    violations.push({
      check,
      rule: `a ${s.status} reservation holds no seat`,
      ids: { reservationId: s.reservation_id, seatId: s.seat_id },
      expected: 'seat AVAILABLE or another reservation\'s',
      found: `seat ${s.seat_status} by this reservation`,
    });
  }
  return result(check, violations);
}

async function confirmedSagasAreComplete(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'confirmed-sagas-are-complete';
  const violations: Violation[] = [];
  const orders = await rows<{ id: string; user_id: number; total_won: number; incomplete_products: number[]; paid: number | null; payer: number | null; refunded: number | null }>(
    em,
    sql`select o.id, o.user_id, o.total_won, p.amount_points as paid, p.account_user_id as payer, r.amount_points as refunded,
               array(select l.product_id from order_lines l
                     where l.order_id = o.id and not exists (
                       select 1 from stock_reservations sr where sr.order_id = l.order_id and sr.product_id = l.product_id
                         and sr.status = 'COMMITTED' and sr.quantity = l.quantity)
                     order by l.product_id) as incomplete_products
        from orders o
        left join point_ledger p on p.reference = o.workflow_id and p.kind = 'PAYMENT'
        left join point_ledger r on r.reference = o.workflow_id and r.kind = 'REFUND'
        where o.status = 'CONFIRMED' and ${within('o.id', scope?.orders, 'uuid')}
        order by o.id`,
  );
  for (const o of orders) {
    const ids = { orderId: o.id };
    if (o.incomplete_products.length > 0) {
      violations.push({ check, rule: 'a CONFIRMED order has every line COMMITTED', ids: { ...ids, productIds: o.incomplete_products }, expected: 'a COMMITTED stock line of the line\'s quantity', found: 'none' });
    }
    paymentViolations(check, 'order', ids, o, violations);
  }
  const reservations = await rows<{ id: string; user_id: number; total_won: number; missing_seats: number[]; paid: number | null; payer: number | null; refunded: number | null }>(
    em,
    sql`select res.id, res.user_id, res.total_won, p.amount_points as paid, p.account_user_id as payer, r.amount_points as refunded,
               array(select x::int from jsonb_array_elements_text(res.seat_ids) as x
                     where not exists (select 1 from seats s where s.id = x::int and s.status = 'RESERVED' and s.reservation_id = res.id)
                     order by x::int) as missing_seats
        from reservations res
        left join point_ledger p on p.reference = res.workflow_id and p.kind = 'PAYMENT'
        left join point_ledger r on r.reference = res.workflow_id and r.kind = 'REFUND'
        where res.status = 'CONFIRMED' and ${within('res.id', scope?.reservations, 'uuid')}
        order by res.id`,
  );
  for (const res of reservations) {
    const ids = { reservationId: res.id };
    if (res.missing_seats.length > 0) {
      violations.push({ check, rule: 'a CONFIRMED reservation has all its seats RESERVED by it', ids: { ...ids, seatIds: res.missing_seats }, expected: 'seats RESERVED by this reservation', found: 'not RESERVED by it' });
    }
    paymentViolations(check, 'reservation', ids, res, violations);
  }
  return result(check, violations);
}

function paymentViolations(
  check: CheckName,
  kind: 'order' | 'reservation',
  ids: InvariantIds,
  saga: { user_id: number; total_won: number; paid: number | null; payer: number | null; refunded: number | null },
  out: Violation[],
): void {
  if (saga.paid !== saga.total_won) {
    out.push({ check, rule: `a CONFIRMED ${kind} is paid its total`, ids, expected: `one PAYMENT of ${saga.total_won}`, found: saga.paid === null ? 'no PAYMENT' : `PAYMENT of ${saga.paid}` });
  } else if (saga.payer !== saga.user_id) {
    out.push({ check, rule: `a CONFIRMED ${kind} is paid by its user`, ids, expected: `payer user ${saga.user_id}`, found: `payer user ${saga.payer}` });
  }
  if (saga.refunded !== null) {
    out.push({ check, rule: `a CONFIRMED ${kind} is not refunded`, ids, expected: 'no REFUND', found: `REFUND of ${saga.refunded}` });
  }
}

async function seatsHaveOneLiveHolder(em: EntityManager, scope: ResolvedScope | undefined): Promise<CheckResult> {
  const check = 'seats-have-one-live-holder';
  const found = await rows<{ id: number; status: string; reservation_id: string; reservation_status: string | null; listed: boolean | null }>(
    em,
    sql`select s.id, s.status, s.reservation_id, res.status as reservation_status, res.seat_ids @> to_jsonb(s.id) as listed
        from seats s left join reservations res on res.id = s.reservation_id
        where s.status <> 'AVAILABLE'
          and (${within('s.performance_id', scope?.performances, 'int')} or ${within('s.reservation_id', scope?.reservations, 'uuid')})
          and not coalesce((s.status = 'HELD' and res.status = 'PENDING' and res.seat_ids @> to_jsonb(s.id))
                        or (s.status = 'RESERVED' and res.status = 'CONFIRMED' and res.seat_ids @> to_jsonb(s.id)), false)
        order by s.id`,
  );
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const seat of found) {
    const ids = { seatId: seat.id, reservationId: seat.reservation_id };
    const holder = seat.status === 'HELD' ? 'PENDING' : 'CONFIRMED';
    if (seat.status === 'HELD' && seat.reservation_status === 'COMPENSATION_FAILED') {
      notes.push({ check, kind: 'needs-operator', ids, detail: 'seat still HELD by a COMPENSATION_FAILED reservation' });
      continue;
    }
    const state = seat.reservation_status === null ? 'no such reservation' : `reservation ${seat.reservation_status}${seat.listed ? '' : ' that does not list the seat'}`;
    violations.push({
      check,
      rule: `a ${seat.status} seat belongs to a ${holder} reservation that lists it`,
      ids,
      expected: `reservation ${holder} listing seat ${seat.id}`,
      found: state,
    });
  }
  return result(check, violations, notes);
}

async function dataPlatformDelivery(em: EntityManager, scope: ResolvedScope | undefined, options: InvariantOptions): Promise<CheckResult> {
  const check = 'data-platform-delivery';
  if (!options.receivedEvents && !options.deliveredEventIds) {
    return { ...result(check, []), skipped: 'no data-platform events given' };
  }
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  const received = new Map<string, number>();
  for (const e of options.receivedEvents ?? []) received.set(e.eventId, (received.get(e.eventId) ?? 0) + 1);
  for (const id of options.deliveredEventIds ?? []) if (!received.has(id)) received.set(id, 1);

  const confirmed = await rows<{ kind: 'order' | 'reservation'; id: string; workflow_id: string; deliveries: { eventId: string; status: string; attempts: number }[] }>(
    em,
    sql`select s.kind, s.id, s.workflow_id,
               coalesce((select jsonb_agg(jsonb_build_object('eventId', d.event_id, 'status', d.status, 'attempts', d.attempts))
                         from data_platform_deliveries d where d.saga_id = s.workflow_id), '[]'::jsonb) as deliveries
        from (select 'order' as kind, id::text as id, workflow_id from orders
                where status = 'CONFIRMED' and ${within('id', scope?.orders, 'uuid')}
              union all
              select 'reservation', id::text, workflow_id from reservations
                where status = 'CONFIRMED' and ${within('id', scope?.reservations, 'uuid')}) s
        order by s.kind, s.id`,
  );
  for (const saga of confirmed) {
    const eventId = confirmedEventId(saga.workflow_id);
    const ids = { [saga.kind === 'order' ? 'orderId' : 'reservationId']: saga.id, eventId };
    const times = received.get(eventId) ?? 0;
    if (times === 1) continue;
    if (times > 1) {
      violations.push({ check, rule: 'an event is received once', ids, expected: 'received once', found: `received ${times} times` });
      continue;
    }
    const delivery = saga.deliveries.find((d) => d.eventId === eventId);
    if (options.allowInFlight && (!delivery || delivery.status === 'PENDING')) {
      notes.push({ check, kind: 'in-flight', ids, detail: delivery ? `delivery PENDING after ${plural(delivery.attempts, 'attempt')}` : 'delivery not started yet' });
      continue;
    }
    violations.push({
      check,
      rule: `the event of a CONFIRMED ${saga.kind} reaches the data platform`,
      ids,
      expected: 'received once',
      found: `not received (delivery ${delivery ? `${delivery.status} after ${plural(delivery.attempts, 'attempt')}` : 'never attempted'})`,
    });
  }

  // Events of sagas that are not CONFIRMED: find each event's saga by its workflow id.
  const suffix = confirmedEventId('');
  const workflowIds = [...received.keys()].filter((id) => id.endsWith(suffix)).map((id) => id.slice(0, -suffix.length));
  const sagas = await rows<{ kind: 'order' | 'reservation'; id: string; status: string; workflow_id: string }>(
    em,
    sql`select 'order' as kind, id::text as id, status, workflow_id from orders
          where workflow_id in (select jsonb_array_elements_text(${json(workflowIds)}::jsonb))
        union all
        select 'reservation', id::text, status, workflow_id from reservations
          where workflow_id in (select jsonb_array_elements_text(${json(workflowIds)}::jsonb))`,
  );
  const byWorkflow = new Map(sagas.map((s) => [s.workflow_id, s]));
  const inScope = scope ? new Set([...scope.orders, ...scope.reservations]) : undefined;
  for (const eventId of [...received.keys()].sort()) {
    const saga = eventId.endsWith(suffix) ? byWorkflow.get(eventId.slice(0, -suffix.length)) : undefined;
    if (!saga) {
      if (!inScope) violations.push({ check, rule: 'an event belongs to a CONFIRMED saga', ids: { eventId }, expected: 'an order or reservation with this event', found: 'none' });
      continue;
    }
    if (inScope && !inScope.has(saga.id)) continue;
    if (saga.status !== 'CONFIRMED') {
      violations.push({
        check,
        rule: 'an event belongs to a CONFIRMED saga',
        ids: { [saga.kind === 'order' ? 'orderId' : 'reservationId']: saga.id, eventId },
        expected: `${saga.kind} CONFIRMED`,
        found: `${saga.kind} ${saga.status}`,
      });
    }
  }
  return result(check, violations, notes);
}

// ---------------------------------------------------------------------------------------
// SQL helpers

/** A SQL text with `?` placeholders and their values, in order. */
interface Fragment {
  text: string;
  params: unknown[];
}

function isFragment(value: unknown): value is Fragment {
  return typeof value === 'object' && value !== null && 'text' in value && 'params' in value && Array.isArray((value as Fragment).params);
}

/** Tagged template: interpolated fragments are inlined, every other value becomes a `?` parameter. */
function sql(strings: TemplateStringsArray, ...values: unknown[]): Fragment {
  let text = strings[0]!;
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (isFragment(value)) {
      text += value.text;
      params.push(...value.params);
    } else {
      text += '?';
      params.push(value);
    }
    text += strings[i + 1]!;
  });
  return { text, params };
}

function raw(text: string): Fragment {
  return { text, params: [] };
}

function rows<Row extends object>(em: EntityManager, query: Fragment): Promise<Row[]> {
  return em.execute<Row[]>(query.text, query.params as never[], 'all');
}

function json(values: readonly unknown[]): string {
  return JSON.stringify(values);
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function result(name: CheckName, violations: Violation[], notes: InvariantNote[] = []): CheckResult {
  return { name, description: DESCRIPTIONS[name], passed: violations.length === 0, violations, notes };
}

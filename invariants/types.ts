/**
 * The vocabulary of the invariant checker: what a check reports (violations, notes), the
 * options and scope it takes, and the names and descriptions of the checks.
 */
import type { SagaWorkflowState } from '../common/reconciliation.ts';

/** Ids of the rows a violation or note is about, e.g. `{ orderId, productId }`. */
export type InvariantIds = Record<string, string | number | number[] | string[]>;

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

/** Outcome of `checkInvariants`: `ok` when no check found a violation. */
export interface InvariantReport {
  checks: CheckResult[];
  ok: boolean;
}

/**
 * Restricts the check to some rows, so a test can check its own while other suites use the
 * same database. Related rows join the scope: the orders and reservations of `userIds`,
 * the orders with a line on `productIds`, the reservations of `performanceIds`; then the
 * products, users and performances of those orders and reservations, and the performances
 * of the users' queue tokens. Per-product, per-user and per-performance checks (sums, the
 * queue's cap and order) always count every row of that product, user or performance.
 */
export interface InvariantScope {
  productIds?: readonly number[];
  userIds?: readonly number[];
  performanceIds?: readonly number[];
  orderIds?: readonly string[];

  /** Coupon campaigns: their coupons join the scope (a campaign's count always counts all of them). */
  campaignIds?: readonly number[];
  reservationIds?: readonly string[];
}

/** An event as the mock data platform lists it (`GET /events`); only `eventId` is needed. */
export interface ReceivedEventLike {
  eventId: string;
  attempts?: number;
}

/** Options of `checkInvariants`. */
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
  /**
   * What Temporal says of each of these workflow ids (e.g. `sagaWorkflowStates` of
   * activities/reconciliation.ts with a client). With it, the orphan check reports a PENDING
   * saga past its deadline only when its workflow is closed or missing; without it, by age.
   */
  workflowStates?: (workflowIds: string[]) => Promise<ReadonlyMap<string, SagaWorkflowState>>;
  /** Deadlines of the orphan check in ms (defaults: common/reconciliation.ts, as the reconciliation's). */
  orphanGraceMs?: { order?: number; reservation?: number };
  /** The waiting queue's rules as the service runs them (config.queue); see {@link QueueCheckOptions}. */
  queue?: QueueCheckOptions;
}

/** What the queue checks need to know of the service's settings. */
export interface QueueCheckOptions {
  /**
   * QUEUE_ACTIVE_LIMIT: most ACTIVE tokens per performance at any instant. Without it the
   * cap check is skipped (suites sharing one database run different limits).
   */
  activeLimit?: number;
  /**
   * How long (ms) a token may stay ACTIVE past its `activeUntil` before that is a violation:
   * the admission driver ends it within its poll. Default 6,000 (5 s + QUEUE_POLL_MS's default).
   */
  overdueGraceMs?: number;
}

/** Names of the checks, in the order they run and are reported. */
export const CHECK_NAMES = [
  'stock-conservation',
  'stock-lines-match-orders',
  'point-conservation',
  'payments-belong-to-live-or-confirmed-sagas',
  'payments-match-ledger',
  'closed-sagas-have-no-effects',
  'confirmed-sagas-are-complete',
  'seats-have-one-live-holder',
  'coupons-within-campaign-quantity',
  'used-coupons-belong-to-confirmed-orders',
  'reserved-coupons-belong-to-pending-orders',
  'coupon-redemptions-match-coupons',
  'queue-tokens-within-active-limit',
  'queue-tokens-admitted-in-ticket-order',
  'queue-counters-count-waiting',
  'queue-tokens-active-within-deadline',
  'confirmed-reservations-expire-their-tokens',
  'pending-sagas-have-live-workflows',
  'data-platform-delivery',
  'ranking-matches-confirmed-orders',
  'ranking-events-belong-to-confirmed-orders',
] as const;

/** One of {@link CHECK_NAMES}. */
export type CheckName = (typeof CHECK_NAMES)[number];

/** The waiting queue's checks (invariants/queue.ts), in {@link CHECK_NAMES} order. */
export const QUEUE_CHECK_NAMES = [
  'queue-tokens-within-active-limit',
  'queue-tokens-admitted-in-ticket-order',
  'queue-counters-count-waiting',
  'queue-tokens-active-within-deadline',
  'confirmed-reservations-expire-their-tokens',
] as const satisfies readonly CheckName[];

const DESCRIPTIONS: Record<CheckName, string> = {
  'stock-conservation':
    'for each product: initial_stock = stock + units on RESERVED stock lines + units on COMMITTED (sold) stock lines',
  'stock-lines-match-orders':
    'a RESERVED stock line belongs to a PENDING order, a COMMITTED one to a CONFIRMED order (COMPENSATION_FAILED: needs operator)',
  'point-conservation': 'for each user: sum(TOP_UP) - sum(PAYMENT) + sum(REFUND) = balance',
  'payments-belong-to-live-or-confirmed-sagas':
    'every PAYMENT not refunded in full belongs to a PENDING or CONFIRMED order or reservation of the paying user; every REFUND returns exactly what its saga paid (0 when nothing was paid)',
  'payments-match-ledger':
    'a PAID payment has one PAYMENT ledger row of its amount and user and no REFUND; a REFUNDED payment has that PAYMENT and a REFUND of the same amount; every PAYMENT ledger row has its payment row',
  'closed-sagas-have-no-effects':
    'a CANCELLED or EXPIRED order or reservation has no RESERVED/COMMITTED stock line, no unrefunded payment and no HELD/RESERVED seat',
  'confirmed-sagas-are-complete':
    'a CONFIRMED order has every line COMMITTED and one PAYMENT equal to its total, no REFUND; a CONFIRMED reservation has all its seats RESERVED by it and one PAYMENT equal to its total, no REFUND',
  'seats-have-one-live-holder':
    'a HELD seat is held by a PENDING reservation that lists it, a RESERVED seat by a CONFIRMED reservation that lists it',
  'coupons-within-campaign-quantity': 'for each coupon campaign: coupons issued <= quantity and issued_count = its coupons (one per user per campaign: the unique index)',
  'used-coupons-belong-to-confirmed-orders':
    'a USED coupon belongs to a CONFIRMED order whose coupon_id is that coupon, and a CONFIRMED order\'s coupon is USED by it (so by exactly one)',
  'reserved-coupons-belong-to-pending-orders':
    'a RESERVED coupon is held by a PENDING order, never by a closed one (COMPENSATION_FAILED: needs operator)',
  'coupon-redemptions-match-coupons':
    'a RESERVED or USED redemption has its coupon in that status held by its order, a RELEASED one\'s coupon is not held by its order, and a held coupon has its order\'s redemption',
  'queue-tokens-within-active-limit':
    'for each performance: at no instant more than the active limit of tokens active, a token being active over [admitted_at, ended_at) (skipped without a limit)',
  'queue-tokens-admitted-in-ticket-order':
    'no queue token is admitted while a token of its performance with a smaller ticket is still WAITING (cancelled while WAITING: until its ended_at)',
  'queue-counters-count-waiting': 'for each performance: queue_counters.waiting = its WAITING queue tokens',
  'queue-tokens-active-within-deadline': 'no queue token is still ACTIVE longer than the grace after its active_until',
  'confirmed-reservations-expire-their-tokens':
    'a CONFIRMED reservation\'s queue token is its user\'s for its performance and EXPIRED (PAID or TIMED_OUT), never live nor CANCELLED',
  'pending-sagas-have-live-workflows':
    'a PENDING order created more than the order grace ago, or a PENDING reservation whose hold expired more than the reservation grace ago, has a running workflow (asked of Temporal when the checker can, else judged by age alone)',
  'data-platform-delivery':
    'the event of every CONFIRMED order and reservation was received exactly once, and no event was received for a saga that is not CONFIRMED',
  'ranking-matches-confirmed-orders':
    'for each product and UTC day: product_sales_daily = units and revenue (units x unit price) of the lines of the CONFIRMED orders whose order.confirmed event the ranking consumed, each order once, on its event\'s day',
  'ranking-events-belong-to-confirmed-orders':
    'every event the ranking consumed is the order.confirmed outbox event of a CONFIRMED order, and no order has two consumed events',
};

/** The result of check `name`: passed when it found no violation. */
export function result(name: CheckName, violations: Violation[], notes: InvariantNote[] = []): CheckResult {
  return { name, description: DESCRIPTIONS[name], passed: violations.length === 0, violations, notes };
}

/** The two kinds of saga: an order checkout or a seat reservation. */
export type SagaKind = 'order' | 'reservation';

/** The id of a saga of `kind` as violation ids: `{ orderId }` or `{ reservationId }`. */
export function sagaIds(kind: SagaKind, id: string): InvariantIds {
  return { [kind === 'order' ? 'orderId' : 'reservationId']: id };
}

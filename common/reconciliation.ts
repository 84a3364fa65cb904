/**
 * The reconciliation contract shared by the worker (which schedules it), the workflow
 * `reconcileSagas` and its activities: what an orphaned saga is, what a run repairs and
 * what it reports. See docs/operations.md, "Reconciliation".
 */

/** The two kinds of saga a reconciliation closes. */
export type SagaKind = 'order' | 'reservation';

/**
 * How long a PENDING order may live before a run looks at its workflow, in ms since it was
 * created (default of `RECONCILIATION_ORDER_GRACE_MS`): well beyond the 5 minutes a forward
 * step may retry, and beyond any attempt of its pivot (15 s), so no step of its saga can
 * still commit when the row is repaired.
 */
export const DEFAULT_ORDER_GRACE_MS = 900_000;
/**
 * How long past its hold's expiry a PENDING reservation may live before a run looks at its
 * workflow, in ms (default of `RECONCILIATION_RESERVATION_GRACE_MS`).
 */
export const DEFAULT_RESERVATION_GRACE_MS = 300_000;

/** Input of `reconcileSagas`, set on the Schedule from the worker's config; durations in ms. */
export interface ReconciliationInput {
  orderGraceMs: number;
  reservationGraceMs: number;
  /** Most orphans of each kind repaired in one run, and most stray effects listed. */
  batchSize: number;
}

/** What Temporal says of a saga's workflow id (the latest run): `MISSING` when it never existed or is gone. */
export type SagaWorkflowState =
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TERMINATED'
  | 'CONTINUED_AS_NEW'
  | 'TIMED_OUT'
  | 'MISSING';

/**
 * A PENDING order or reservation past its deadline whose workflow is closed or missing:
 * nothing will ever close it but a reconciliation. `lines` (orders only) are the order's
 * lines, as its saga passes them to `releaseStock`.
 */
export interface OrphanedSaga {
  kind: SagaKind;
  /** The order or reservation id (a UUID). */
  id: string;
  workflowId: string;
  userId: number;
  workflowState: Exclude<SagaWorkflowState, 'RUNNING'>;
  lines?: { productId: number; quantity: number }[];
  /** Orders: the coupon its redemption names (given back by `releaseCoupon`), or null/absent without one. */
  couponId?: number | null;
}

/** Result of `findOrphanedSagas`: the orphans, and the candidates left alone because their workflow runs. */
export interface OrphanScan {
  orphans: OrphanedSaga[];
  /** Workflow ids of PENDING rows past their deadline whose workflow is still running (never touched). */
  running: string[];
}

/** One orphan closed by a run, and what its compensations undid. */
export interface RepairedSaga {
  kind: SagaKind;
  id: string;
  workflowId: string;
  workflowState: OrphanedSaga['workflowState'];
  /** Orders: stock lines given back to stock by `releaseStock`. */
  releasedStockLines?: { productId: number; quantity: number }[];
  /** Reservations: seats made AVAILABLE by `releaseSeats`. */
  releasedSeatIds?: number[];
  /** Points given back by `refundPoints` (0 when nothing was paid). */
  refundedPoints: number;
}

/** An orphan a run could not close (a compensation failed for good, or retried past the run's limit). */
export interface UnrepairedSaga {
  kind: SagaKind;
  id: string;
  workflowId: string;
  failureType: string;
  message: string;
}

/**
 * Effects no live saga explains, reported (never changed) by a run: RESERVED stock lines
 * of an order that is not PENDING, seats HELD by a reservation that is not PENDING (or by
 * none), PAYMENT ledger rows of a CANCELLED or EXPIRED saga (or of none) not refunded in
 * full. Effects of a COMPENSATION_FAILED saga are not counted: its workflow is parked for
 * an operator. Each list holds at most `batchSize` entries; the counts are complete.
 */
export interface StrayEffects {
  stockLines: { count: number; items: { orderId: string; productId: number; quantity: number; orderStatus: string }[] };
  heldSeats: { count: number; items: { seatId: number; reservationId: string | null; reservationStatus: string | null }[] };
  payments: { count: number; items: { ledgerEntryId: number; reference: string; amountPoints: number; sagaStatus: string | null }[] };
}

/** Result of one `reconcileSagas` run. */
export interface ReconciliationResult {
  repaired: RepairedSaga[];
  failed: UnrepairedSaga[];
  /** Workflow ids skipped because their workflow is still running. */
  running: string[];
  strays: StrayEffects;
}

/** The message a reconciled order or reservation is closed with (its reason is `Cancelled`). */
export function reconciledMessage(workflowState: OrphanedSaga['workflowState']): string {
  return `Closed by the reconciliation: its workflow is ${workflowState === 'MISSING' ? 'missing' : workflowState}`;
}

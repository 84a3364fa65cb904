/**
 * The reconciliation (`reconcileSagas`), one short run per firing of the Schedule
 * `saga-reconciliation` (worker/schedule.ts): the safety net that closes sagas no workflow
 * will ever close, and reports effects no live saga explains. See docs/operations.md,
 * "Reconciliation".
 *
 * An orphan is a PENDING order or reservation past its deadline whose workflow is closed
 * or missing (its first step committed but the saga never saw it, or the workflow was
 * terminated). A run closes each one through the compensations its saga would have run, in
 * the saga's order (refundPoints, then releaseCoupon if the order reserved one, then
 * releaseStock; or refundPoints then releaseSeats), then closes the row
 * CANCELLED (reason `Cancelled`, message "Closed by the reconciliation: ..."). Every one is
 * idempotent and the row is closed last, so a run that stops half way leaves the row
 * PENDING and the next run finishes the repair. A row whose workflow still runs is never
 * touched.
 */
import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { FailureType } from '../common/failures.ts';
import { stepKey } from '../common/ids.ts';
import {
  reconciledMessage,
  type OrphanedSaga,
  type ReconciliationInput,
  type ReconciliationResult,
  type RepairedSaga,
  type UnrepairedSaga,
} from '../common/reconciliation.ts';
import { failureOf } from './failures.ts';
import { reconciliationMetrics } from './observability.ts';

/** Patch id of releasing an orphaned order's coupon (runs recorded before coupons existed did not). */
export const RECONCILIATION_COUPON_PATCH = 'reconciliation-releases-coupon';

/** The reads: retried a few times, then the run fails and the next firing reads again. */
const reads = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

/**
 * The compensations: retried for up to 2 minutes each, not without end as in a saga, so one
 * stuck repair cannot hold the run (and, the Schedule skipping overlaps, every later run);
 * the orphan stays PENDING and the next run tries again.
 */
const repairs = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/**
 * One reconciliation run: finds the orphans (at most `batchSize` of each kind), closes each
 * one, then reports the stray effects. Returns what it repaired, what it could not, the
 * workflows it left alone because they run, and the stray effects. Logs one line and counts
 * `saga_reconciliation_repairs` per repair; an orphan it cannot close is logged, counted in
 * `saga_reconciliation_failures`, and left for the next run.
 */
export async function reconcileSagas(input: ReconciliationInput): Promise<ReconciliationResult> {
  const { orphans, running } = await reads.findOrphanedSagas(input);
  const repaired: RepairedSaga[] = [];
  const failed: UnrepairedSaga[] = [];
  for (const orphan of orphans) {
    try {
      const repair = await repairOrphan(orphan);
      repaired.push(repair);
      reconciliationMetrics.repaired(orphan.kind);
      log.info(`reconciled an orphaned ${orphan.kind}`, { ...repair });
    } catch (err) {
      const failure = unrepaired(orphan, err);
      failed.push(failure);
      reconciliationMetrics.failed(orphan.kind);
      log.error(`could not reconcile an orphaned ${orphan.kind}; the next run retries`, { ...failure });
    }
  }
  const strays = await reads.findStrayEffects({ limit: input.batchSize });
  reconciliationMetrics.strays({ stockLines: strays.stockLines.count, heldSeats: strays.heldSeats.count, payments: strays.payments.count });
  if (strays.stockLines.count + strays.heldSeats.count + strays.payments.count > 0) {
    log.warn('effects no live saga explains', {
      stockLines: strays.stockLines.count,
      heldSeats: strays.heldSeats.count,
      payments: strays.payments.count,
      examples: { stockLines: strays.stockLines.items.slice(0, 5), heldSeats: strays.heldSeats.items.slice(0, 5), payments: strays.payments.items.slice(0, 5) },
    });
  }
  return { repaired, failed, running, strays };
}

/** Runs an orphan's compensations, in its saga's order, then closes its row CANCELLED. */
async function repairOrphan(orphan: OrphanedSaga): Promise<RepairedSaga> {
  const { kind, id, workflowId, userId, workflowState } = orphan;
  const message = reconciledMessage(workflowState);
  const refund = await repairs.refundPoints({ userId, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'refund') });
  const base = { kind, id, workflowId, workflowState, refundedPoints: refund.amountPoints };
  if (kind === 'order') {
    // The coupon, released in the saga's order (after the refund, before the stock); runs
    // recorded before coupons existed took no such step.
    if (orphan.couponId != null && patched(RECONCILIATION_COUPON_PATCH)) await repairs.releaseCoupon({ orderId: id, couponId: orphan.couponId });
    const released = await repairs.releaseStock({ orderId: id, lines: orphan.lines ?? [] });
    await repairs.cancelOrder({ orderId: id, reason: FailureType.Cancelled, message });
    return { ...base, releasedStockLines: released.lines };
  }
  const released = await repairs.releaseSeats({ reservationId: id });
  await repairs.closeReservation({ reservationId: id, status: 'CANCELLED', reason: FailureType.Cancelled, message });
  return { ...base, releasedSeatIds: released.releasedSeatIds };
}

function unrepaired(orphan: OrphanedSaga, err: unknown): UnrepairedSaga {
  const { type, message } = failureOf(err);
  return { kind: orphan.kind, id: orphan.id, workflowId: orphan.workflowId, failureType: type, message };
}

/**
 * What operators see of a saga outside its history: custom search attributes (Web UI
 * lists, `temporal workflow list --query`) and metrics (through the worker's Runtime
 * exporter). Metrics are not emitted during replay; search-attribute upserts are
 * commands, so the ones added after v1 histories were recorded sit behind a patch.
 */
import { metricMeter, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { SagaSearchAttributes, SagaStatusSearchAttribute } from '../common/saga.ts';

/**
 * Patch id of the search attributes beyond SagaStatus (OrderId, ReservationId, UserId,
 * FailedStep, CompensatedSteps, HoldExpiresAt). Sagas started before it replay without
 * them; remove the check (deprecatePatch) once no such saga can still be running.
 */
export const SEARCH_ATTRIBUTES_PATCH = 'saga-search-attributes';

const sagasStarted = metricMeter.createCounter('saga_started', 'sagas', 'Sagas started, by workflow type');
const sagasEnded = metricMeter.createCounter('saga_ended', 'sagas', 'Sagas that reached a business outcome, by status');
const stepFailures = metricMeter.createCounter('saga_step_failures', 'failures', 'Forward steps that failed, by step and failure type');
const compensationsRun = metricMeter.createCounter('saga_compensations', 'compensations', 'Compensations completed, by step');
const holdExpiries = metricMeter.createCounter('saga_hold_expiries', 'holds', 'Seat holds that expired unpaid');
const compensationFailures = metricMeter.createCounter(
  'saga_compensation_failures',
  'failures',
  'Compensations that failed for good and parked a saga for an operator',
);

const reconciliationRepairs = metricMeter.createCounter(
  'saga_reconciliation_repairs',
  'sagas',
  'Orphaned sagas (PENDING, workflow closed or missing) closed by the reconciliation, by kind',
);
const reconciliationFailures = metricMeter.createCounter(
  'saga_reconciliation_failures',
  'sagas',
  'Orphaned sagas the reconciliation could not close in a run, by kind',
);
const strayEffects = metricMeter.createGauge(
  'saga_stray_effects',
  'int',
  'effects',
  'Effects no live saga explains at the last reconciliation, by kind (stock_line, held_seat, payment)',
);

/**
 * What the reconciliation tells the metrics (workflows/reconciliation.ts): each orphan it
 * closed or failed to close (`kind`: order or reservation), and the stray effects it found.
 */
export const reconciliationMetrics = {
  repaired(kind: string): void {
    reconciliationRepairs.add(1, { kind });
  },
  failed(kind: string): void {
    reconciliationFailures.add(1, { kind });
  },
  strays(counts: { stockLines: number; heldSeats: number; payments: number }): void {
    strayEffects.set(counts.stockLines, { kind: 'stock_line' });
    strayEffects.set(counts.heldSeats, { kind: 'held_seat' });
    strayEffects.set(counts.payments, { kind: 'payment' });
  },
};

/** The business ids a saga is tagged with when it starts. */
export interface SagaIds {
  orderId?: string;
  reservationId?: string;
  userId: number;
  holdExpiresAt?: Date;
}

/** Search attributes the current code may upsert (old histories: SagaStatus only). */
function richAttributes(): boolean {
  return patched(SEARCH_ATTRIBUTES_PATCH);
}

/** Observes one saga: search attributes and metrics, tagged with its workflow type. */
export class SagaObserver {
  readonly #workflowType: string;
  readonly #compensated: string[] = [];

  constructor(workflowType: string) {
    this.#workflowType = workflowType;
  }

  /** The saga started: counts it and tags it with its business ids. */
  started(ids: SagaIds): void {
    sagasStarted.add(1, { workflowType: this.#workflowType });
    if (!richAttributes()) return;
    const pairs = [{ key: SagaSearchAttributes.userId, value: String(ids.userId) }];
    if (ids.orderId) pairs.push({ key: SagaSearchAttributes.orderId, value: ids.orderId });
    if (ids.reservationId) pairs.push({ key: SagaSearchAttributes.reservationId, value: ids.reservationId });
    upsertSearchAttributes(pairs);
    if (ids.holdExpiresAt) upsertSearchAttributes([{ key: SagaSearchAttributes.holdExpiresAt, value: ids.holdExpiresAt }]);
  }

  /** The saga's business status changed (PENDING, CONFIRMED, CANCELLED, ...). */
  status(status: string): void {
    upsertSearchAttributes([{ key: SagaStatusSearchAttribute, value: status }]);
    if (status !== 'PENDING') sagasEnded.add(1, { workflowType: this.#workflowType, status });
    if (status === 'EXPIRED') holdExpiries.add(1, { workflowType: this.#workflowType });
  }

  /** A forward step failed with `failureType`. */
  stepFailed(step: string, failureType: string): void {
    stepFailures.add(1, { workflowType: this.#workflowType, step, failureType });
    if (richAttributes()) upsertSearchAttributes([{ key: SagaSearchAttributes.failedStep, value: step }]);
  }

  /** A compensation failed for good (each time, a failed operator retry included). */
  compensationFailed(): void {
    compensationFailures.add(1, { workflowType: this.#workflowType });
  }

  /** A compensation completed. */
  compensated(compensation: string): void {
    compensationsRun.add(1, { workflowType: this.#workflowType, step: compensation });
    this.#compensated.push(compensation);
    if (richAttributes()) upsertSearchAttributes([{ key: SagaSearchAttributes.compensatedSteps, value: [...this.#compensated] }]);
  }
}

/**
 * What operators see of a saga outside its history: custom search attributes (Web UI
 * lists, `temporal workflow list --query`) and metrics (through the worker's Runtime
 * exporter). Metrics are not emitted during replay; search-attribute upserts are
 * commands, so every change of when they are upserted sits behind a patch:
 * - v1 histories: `SagaStatus` at every status change;
 * - {@link SEARCH_ATTRIBUTES_PATCH}: also the business ids at the start, `FailedStep` at
 *   each failed step, `CompensatedSteps` after each compensation;
 * - {@link SAGA_ONE_UPSERT_PATCH} (sagas started now): the start gives the ids and
 *   `SagaStatus` PENDING (common/saga.ts `sagaStartSearchAttributes`); the saga upserts
 *   once when it ends (status, `FailedStep` unless CONFIRMED, `CompensatedSteps` in one
 *   command), and once more each time it parks in COMPENSATION_FAILED, where an operator
 *   must find it.
 */
import { metricMeter, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { SagaSearchAttributes, SagaStatusSearchAttribute, sagaStartSearchAttributes, type SagaIds } from '../common/saga.ts';

export { SAGA_ONE_UPSERT_PATCH, type SagaIds } from '../common/saga.ts';

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

/** Search attributes the current code may upsert (old histories: SagaStatus only). */
function richAttributes(): boolean {
  return patched(SEARCH_ATTRIBUTES_PATCH);
}

/**
 * Observes one saga: search attributes and metrics, tagged with its workflow type.
 * `oneUpsert` (the saga runs from {@link SAGA_ONE_UPSERT_PATCH} on): intermediate states
 * are kept here and written by the one upsert of {@link status} at the end or parking.
 */
export class SagaObserver {
  readonly #workflowType: string;
  readonly #oneUpsert: boolean;
  readonly #compensated: string[] = [];
  #failedStep: string | undefined;

  constructor(workflowType: string, oneUpsert: boolean) {
    this.#workflowType = workflowType;
    this.#oneUpsert = oneUpsert;
  }

  /**
   * The saga started: counts it and tags it with its business ids. From
   * {@link SAGA_ONE_UPSERT_PATCH} on, only what the start did not give is upserted (and
   * `SagaStatus` PENDING with it): nothing for a saga the API started.
   */
  started(ids: SagaIds): void {
    sagasStarted.add(1, { workflowType: this.#workflowType });
    if (this.#oneUpsert) {
      const given = workflowInfo().typedSearchAttributes;
      const missing = sagaStartSearchAttributes(ids).filter((pair) => given.get(pair.key) === undefined);
      if (missing.length > 0) upsertSearchAttributes(missing);
      return;
    }
    if (!richAttributes()) return;
    const pairs = [{ key: SagaSearchAttributes.userId, value: String(ids.userId) }];
    if (ids.orderId) pairs.push({ key: SagaSearchAttributes.orderId, value: ids.orderId });
    if (ids.reservationId) pairs.push({ key: SagaSearchAttributes.reservationId, value: ids.reservationId });
    upsertSearchAttributes(pairs);
    if (ids.holdExpiresAt) upsertSearchAttributes([{ key: SagaSearchAttributes.holdExpiresAt, value: ids.holdExpiresAt }]);
  }

  /**
   * The saga's business status changed (PENDING, CONFIRMED, CANCELLED, ...). From
   * {@link SAGA_ONE_UPSERT_PATCH} on, PENDING (given at the start) is not upserted; every
   * other status ends or parks the saga and is upserted with `FailedStep` (when a step
   * failed and the saga is not CONFIRMED) and `CompensatedSteps` (when compensations ran)
   * in one command.
   */
  status(status: string): void {
    if (!this.#oneUpsert) upsertSearchAttributes([{ key: SagaStatusSearchAttribute, value: status }]);
    else if (status !== 'PENDING') upsertSearchAttributes(this.#finalAttributes(status));
    if (status !== 'PENDING') sagasEnded.add(1, { workflowType: this.#workflowType, status });
    if (status === 'EXPIRED') holdExpiries.add(1, { workflowType: this.#workflowType });
  }

  /** A forward step failed with `failureType`. */
  stepFailed(step: string, failureType: string): void {
    stepFailures.add(1, { workflowType: this.#workflowType, step, failureType });
    if (this.#oneUpsert) this.#failedStep = step;
    else if (richAttributes()) upsertSearchAttributes([{ key: SagaSearchAttributes.failedStep, value: step }]);
  }

  /** A compensation failed for good (each time, a failed operator retry included). */
  compensationFailed(): void {
    compensationFailures.add(1, { workflowType: this.#workflowType });
  }

  /** A compensation completed. */
  compensated(compensation: string): void {
    compensationsRun.add(1, { workflowType: this.#workflowType, step: compensation });
    this.#compensated.push(compensation);
    if (!this.#oneUpsert && richAttributes()) upsertSearchAttributes([{ key: SagaSearchAttributes.compensatedSteps, value: [...this.#compensated] }]);
  }

  /** The one upsert at the end (or parking): the status, the last failed step (unless CONFIRMED), the compensations run. */
  #finalAttributes(status: string): SearchAttributePair[] {
    const pairs: SearchAttributePair[] = [{ key: SagaStatusSearchAttribute, value: status }];
    // A confirmed saga's failed step (a refused payment paid again) is no failure to look for.
    if (this.#failedStep !== undefined && status !== 'CONFIRMED') pairs.push({ key: SagaSearchAttributes.failedStep, value: this.#failedStep });
    if (this.#compensated.length > 0) pairs.push({ key: SagaSearchAttributes.compensatedSteps, value: [...this.#compensated] });
    return pairs;
  }
}

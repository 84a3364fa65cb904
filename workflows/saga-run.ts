/**
 * What every saga workflow shares, around the compensation stack of {@link Saga}: its
 * progress and business status (the `SagaStatus` search attribute), its steps, pivot and
 * compensations, and how it ends when a step fails. A compensation that fails for good is
 * logged, counted in `saga_compensation_failures` (label `workflowType`), and parks the
 * saga in COMPENSATION_FAILED until an operator fixes the cause and sends the
 * `retryCompensations` Update, which re-runs only the failed compensations.
 *
 * A saga workflow reads top to bottom:
 *
 * ```ts
 * const saga = new SagaRun({ workflowType, subject: 'order', progress, operatorRetry, ... });
 * saga.started(ids);
 * saga.setStatus('PENDING');
 * try {
 *   saga.addCompensation('releaseStock', () => compensations.releaseStock({ orderId, lines }));
 *   await saga.step('reserveStock', () => steps.reserveStock({ orderId, lines }));
 *   await saga.pivot('confirmOrder', () => steps.confirmOrder({ orderId }));
 * } catch (err) {
 *   await saga.compensateAndClose(failureOf(err), { status: 'CANCELLED', close: (status, failure) => ... });
 * }
 * ```
 */
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, CancellationScope, condition, log, patched, setHandler } from '@temporalio/workflow';
import { FailureType } from '../common/failures.ts';
import type { SagaProgress } from '../common/saga.ts';
import { failureOf, type FailureSummary } from './failures.ts';
import { SAGA_ONE_UPSERT_PATCH, SagaObserver, type SagaIds } from './observability.ts';
import { Saga, type Compensation } from './saga.ts';

/** How a saga is built; see {@link SagaRun}. */
export interface SagaRunOptions<P extends SagaProgress, Answer> {
  /** The workflow type, the `workflowType` label of the saga's metrics. */
  workflowType: string;
  /** What the saga is about, in messages ("The order is CANCELLED, ..."). */
  subject: string;
  /** Fields every log line of the saga carries (its business id). */
  logFields: Record<string, unknown>;
  /** The progress the saga's Query returns; the saga records into it. */
  progress: P;
  /** Told of every status change, with the failure behind CANCELLED, EXPIRED or COMPENSATION_FAILED. */
  onStatus?: (status: P['status'], failure?: FailureSummary) => void;
  /** The operator's `retryCompensations` Update and what it answers once the retry is done. */
  operatorRetry: { update: UpdateDefinition<Answer, []>; answer: () => Answer };
}

/** How a failed saga closes; see {@link SagaRun.compensateAndClose}. */
export interface Closing<Status extends string> {
  /** The status once every compensation ran (CANCELLED, EXPIRED). */
  status: Status;
  /**
   * Writes `status` and the failure behind it to the saga's row: `Closing.status` once the
   * compensations ran, COMPENSATION_FAILED when one failed for good. Absent without a row.
   */
  close?: (status: Status | 'COMPENSATION_FAILED', failure: FailureSummary) => Promise<unknown>;
  /**
   * Whether a compensation that fails for good parks the saga for the operator (default)
   * or ends it in COMPENSATION_FAILED. Asked once, at the first such failure, so that a
   * `patched()` check there decides for sagas recorded before parking existed.
   */
  parks?: () => boolean;
}

/** One saga workflow: steps, compensations, status, parking and the operator retry. */
export class SagaRun<P extends SagaProgress, Answer = unknown> {
  readonly progress: P;
  readonly #options: SagaRunOptions<P, Answer>;
  readonly #observer: SagaObserver;
  readonly #saga: Saga;
  /** The saga runs from {@link SAGA_ONE_UPSERT_PATCH} on (asked once, at its start). */
  readonly #current: boolean;
  readonly #registered = new Set<string>();
  /** Parked in COMPENSATION_FAILED and waiting for the operator (never for a saga that ends there). */
  #parked = false;
  /** An accepted retry Update the compensation loop has not picked up yet. */
  #retryRequested = false;
  /**
   * The compensation loop is re-running the failed compensations for an accepted retry.
   * Read only by the validator (which never runs on replay), so it changes no command.
   */
  #retryRunning = false;
  /** Operator retries finished so far; each retry Update waits for it to grow. */
  #retriesDone = 0;

  constructor(options: SagaRunOptions<P, Answer>) {
    this.#options = options;
    this.progress = options.progress;
    // Asked first, at the saga's start: it fixes the saga's shape for its whole life.
    this.#current = patched(SAGA_ONE_UPSERT_PATCH);
    this.#observer = new SagaObserver(options.workflowType, this.#current);
    this.#saga = new Saga(this.progress, { hooks: this.#observer });
    // Handlers wait in non-cancellable scopes: a cancelled saga still answers.
    setHandler(
      options.operatorRetry.update,
      async () => {
        const before = this.#retriesDone;
        this.#retryRequested = true;
        await CancellationScope.nonCancellable(() => condition(() => this.#retriesDone > before));
        return options.operatorRetry.answer();
      },
      { validator: () => this.#assertParked() },
    );
  }

  /**
   * Whether the saga runs the code of patch `patchId`: always for sagas started from
   * {@link SAGA_ONE_UPSERT_PATCH} on (every earlier patch is part of their shape, and no
   * marker is written for it); otherwise `patched(patchId)`, as the saga always asked.
   * Use it for every patch older than {@link SAGA_ONE_UPSERT_PATCH}.
   */
  hasPatch(patchId: string): boolean {
    return this.#current || patched(patchId);
  }

  /** The saga started: counted, and tagged with its business ids (search attributes). */
  started(ids: SagaIds): void {
    this.#observer.started(ids);
  }

  /** Sets the business status: progress, `SagaStatus` search attribute, metrics, `onStatus`. */
  setStatus(status: P['status'], failure?: FailureSummary): void {
    this.progress.status = status;
    this.#observer.status(status);
    this.#options.onStatus?.(status, failure);
  }

  /** Registers the compensation of the next step. Call it before the step runs. */
  addCompensation(name: string, run: Compensation): void {
    this.#registered.add(name);
    this.#saga.addCompensation(name, run);
  }

  /** {@link addCompensation} unless `name` was registered before (a step the saga may attempt again). */
  addCompensationOnce(name: string, run: Compensation): void {
    if (!this.#registered.has(name)) this.addCompensation(name, run);
  }

  /** Runs forward step `name`, recorded in the progress. Rethrows its failure. */
  step<T>(name: string, run: () => Promise<T>): Promise<T> {
    return this.#saga.step(name, run);
  }

  /**
   * Runs the pivot step: to its end even if the workflow is cancelled meanwhile, because
   * compensating while it may still commit would leave a confirmed saga undone.
   */
  pivot<T>(name: string, run: () => Promise<T>): Promise<T> {
    return CancellationScope.nonCancellable(() => this.#saga.step(name, run));
  }

  /**
   * After `failure` of a step: runs the registered compensations in reverse, then closes
   * the row and sets the status `closing.status`, all in a non-cancellable scope. When a
   * compensation fails for good: logs and counts it, closes the row and sets the status
   * COMPENSATION_FAILED, and parks until the operator's retry Update; the retry re-runs
   * the failed compensations and either closes the saga or parks it again.
   */
  async compensateAndClose<S extends P['status']>(failure: FailureSummary, closing: Closing<S>): Promise<void> {
    this.progress.failure = failure;
    await CancellationScope.nonCancellable(async () => {
      let retrying = false;
      for (;;) {
        try {
          await (retrying ? this.#saga.retryFailed() : this.#saga.compensate());
          break;
        } catch (err) {
          const parks = retrying || (closing.parks?.() ?? true);
          const compensationFailure = { type: FailureType.CompensationFailed, message: failureOf(err).message };
          log.error(`${this.#options.subject} compensation failed; ${parks ? 'parked for an operator' : 'operator needed'}`, {
            ...this.#options.logFields,
            workflowType: this.#options.workflowType,
            failureType: compensationFailure.type,
            failedCompensations: this.#saga.failedCompensations,
          });
          this.#observer.compensationFailed();
          await closing.close?.('COMPENSATION_FAILED', compensationFailure);
          this.setStatus('COMPENSATION_FAILED' as P['status'], compensationFailure);
          this.#retryRunning = false;
          if (retrying) this.#retriesDone += 1;
          if (!parks) return;
          this.#parked = true;
          await condition(() => this.#retryRequested);
          this.#retryRequested = false;
          this.#retryRunning = true;
          retrying = true;
        }
      }
      await closing.close?.(closing.status, failure);
      this.setStatus(closing.status, failure);
      this.#retryRunning = false;
      if (retrying) this.#retriesDone += 1;
    });
  }

  /**
   * Validator of the retry Update: only a parked saga with no retry pending or running
   * accepts one, so each accepted Update runs the failed compensations once and answers
   * with the result of its own run.
   *
   * @throws ApplicationFailure `CompensationRetryInProgress` while an accepted retry has
   *   not answered yet; `NotCompensationFailed` when the saga is not parked.
   */
  #assertParked(): void {
    if (this.#retryRequested || this.#retryRunning) {
      throw ApplicationFailure.nonRetryable(
        `A compensation retry of the ${this.#options.subject} is already running; wait for its answer`,
        FailureType.CompensationRetryInProgress,
      );
    }
    if (!this.#parked || this.progress.status !== 'COMPENSATION_FAILED') {
      throw ApplicationFailure.nonRetryable(
        `The ${this.#options.subject} is ${this.progress.status}, not waiting for a compensation retry`,
        FailureType.NotCompensationFailed,
      );
    }
  }
}

/**
 * The saga helper: records forward steps, keeps the compensation of every step that may
 * have changed something, and runs those compensations in reverse order in a
 * non-cancellable scope. Saga workflows use it through `SagaRun` (saga-run.ts), which
 * adds the business status, parking in COMPENSATION_FAILED and the operator's retry.
 *
 * Usage (register a compensation BEFORE its step, because an activity can commit and
 * still be reported failed; every compensation is therefore idempotent and a no-op when
 * there is nothing to undo):
 *
 * ```ts
 * const saga = new Saga(progress);
 * saga.addCompensation('releaseStock', () => compensations.releaseStock({ orderId, lines }));
 * await saga.step('reserveStock', () => steps.reserveStock({ orderId, lines }));
 * ...
 * catch (err) { await saga.compensate(); }
 * ```
 *
 * Sources: Garcia-Molina & Salem, "Sagas" (1987); Temporal's saga samples and
 * restatedev/examples `sagas/booking_workflow.ts` (compensation registered before its step).
 */
import { ApplicationFailure, CancellationScope, log } from '@temporalio/workflow';
import { FailureType } from '../common/failures.ts';
import type { CompensationRecord, SagaProgress, StepRecord } from '../common/saga.ts';
import { failureOf } from './failures.ts';

/** An undo action. It must be idempotent and a no-op when there is nothing to undo. */
export type Compensation = () => Promise<unknown>;

/**
 * Options of {@link Saga}. `continueAfterFailure` (default true): when one compensation
 * fails for good, still run the earlier ones, so as much as possible is undone before
 * the failure is reported.
 */
export interface SagaOptions {
  continueAfterFailure?: boolean;
  /** Told of failed steps and completed compensations (search attributes, metrics). */
  hooks?: SagaHooks;
}

/** Observers of a saga's steps; see workflows/observability.ts. */
export interface SagaHooks {
  stepFailed(step: string, failureType: string): void;
  compensated(compensation: string): void;
}

/** One saga execution inside a workflow. Records into `progress` for the saga's Query. */
export class Saga {
  readonly #pending: { name: string; run: Compensation }[] = [];
  /** Compensations that failed for good in the last {@link compensate}, in the order they ran. */
  readonly #failed: { name: string; run: Compensation }[] = [];
  readonly #progress: Pick<SagaProgress, 'steps' | 'compensations'>;
  readonly #continueAfterFailure: boolean;
  readonly #hooks: SagaHooks | undefined;

  constructor(progress: Pick<SagaProgress, 'steps' | 'compensations'>, options: SagaOptions = {}) {
    this.#progress = progress;
    this.#continueAfterFailure = options.continueAfterFailure ?? true;
    this.#hooks = options.hooks;
  }

  /** Registers the compensation of the next step. Call it before the step runs. */
  addCompensation(name: string, run: Compensation): void {
    this.#pending.push({ name, run });
  }

  /** Runs forward step `name`, recording started/completed/failed. Rethrows its failure. */
  async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const record: StepRecord = { name, state: 'started', at: Date.now() };
    this.#progress.steps.push(record);
    try {
      const result = await run();
      Object.assign(record, { state: 'completed', at: Date.now() });
      return result;
    } catch (err) {
      const failureType = failureOf(err).type;
      Object.assign(record, { state: 'failed', at: Date.now(), failureType });
      this.#hooks?.stepFailed(name, failureType);
      throw err;
    }
  }

  /** Names of the compensations that failed for good and wait for {@link retryFailed}. */
  get failedCompensations(): string[] {
    return this.#failed.map((c) => c.name);
  }

  /**
   * Puts the compensations that failed for good back in line, in their original order,
   * and runs them again (an operator fixed the cause). Same contract as {@link compensate}.
   */
  async retryFailed(): Promise<void> {
    // #failed holds them in the order they ran (reverse of registration); re-register forwards.
    this.#pending.push(...this.#failed.splice(0).reverse());
    await this.compensate();
  }

  /**
   * Runs every registered compensation once, last registered first, in a
   * non-cancellable scope (so a cancelled workflow still cleans up). Transient failures
   * are retried by the compensation activities' own retry policy, without end; a
   * compensation that fails for good (a non-retryable failure: a business type, or a
   * deterministic database error made non-retryable by the worker) is recorded and
   * reported, never swallowed.
   *
   * @throws ApplicationFailure of type `CompensationFailed` (non-retryable), with the
   *   failed compensations in `details[0].failures`, when any compensation failed for good.
   */
  async compensate(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      const failures: { name: string; type: string; message: string }[] = [];
      for (let next = this.#pending.pop(); next; next = this.#pending.pop()) {
        const record: CompensationRecord = { name: next.name, state: 'started', at: Date.now() };
        this.#progress.compensations.push(record);
        try {
          await next.run();
          Object.assign(record, { state: 'completed', at: Date.now() });
          this.#hooks?.compensated(next.name);
        } catch (err) {
          const failure = failureOf(err);
          Object.assign(record, { state: 'failed', at: Date.now(), failureType: failure.type, message: failure.message });
          failures.push({ name: next.name, ...failure });
          this.#failed.push(next);
          log.error('compensation failed', { compensation: next.name, failureType: failure.type, error: failure.message });
          if (!this.#continueAfterFailure) break;
        }
      }
      if (failures.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `Compensations failed: ${failures.map((f) => f.name).join(', ')}`,
          FailureType.CompensationFailed,
          { failures },
        );
      }
    });
  }
}

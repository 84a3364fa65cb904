/**
 * How the seat reservation saga (workflows/seat-reservation.ts) treats a failed payment
 * step: which failures keep the hold, so the user may pay again before it expires, and
 * which end the saga. Workflow code: deterministic, `patched()` for the change.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { FailureType } from '../common/failures.ts';
import { failureDetails, failureOf, type FailureSummary } from './failures.ts';

/**
 * Patch id of keeping the hold after a payment that failed for a reason that is not a
 * business rejection. Sagas recorded before it ended (CANCELLED) on such a failure.
 */
export const PAYMENT_KEEPS_HOLD_PATCH = 'reservation-payment-keeps-hold-on-failure-of-ours';

/**
 * Failure types of ours, not of the request: a step whose retries ran out or timed out
 * (`UnexpectedError`), a statement PostgreSQL refused. A type that is not in
 * {@link FailureType} at all (an activity's own error name) counts as one too.
 */
const NOT_BUSINESS: ReadonlySet<string> = new Set([FailureType.UnexpectedError, FailureType.DataException, FailureType.IntegrityConstraintViolation]);
const KNOWN: ReadonlySet<string> = new Set(Object.values(FailureType));

/** Whether `type` is a business rejection (a known failure type that is not one of ours). */
export function isBusinessRejection(type: string): boolean {
  return KNOWN.has(type) && !NOT_BUSINESS.has(type);
}

/**
 * The pay Update's failure from `err`, the failure of `payWithPoints`:
 * - `InsufficientPoints` keeps the hold: the user may top up and pay again;
 * - a failure of ours ({@link isBusinessRejection} false) keeps the hold too (sagas from
 *   the patch on), so a new pay call retries the payment (same idempotency key: never
 *   charged twice) while the hold is valid; the Update fails with the failure's type, or
 *   `UnexpectedError` for a type outside {@link FailureType};
 * - any other failure ends the saga: `ends(failure)` records it, then the compensations run.
 * `hasPatch` answers the patch question (default `patched`; the saga passes `SagaRun.hasPatch`).
 *
 * @returns the non-retryable ApplicationFailure (type, message, details of the step's) to throw.
 */
export function paymentFailure(
  err: unknown,
  ends: (failure: FailureSummary) => void,
  hasPatch: (patchId: string) => boolean = patched,
): ApplicationFailure {
  const failure = failureOf(err);
  const details = failureDetails(err);
  if (failure.type === FailureType.InsufficientPoints) return ApplicationFailure.nonRetryable(failure.message, failure.type, ...details);
  if (!isBusinessRejection(failure.type) && hasPatch(PAYMENT_KEEPS_HOLD_PATCH)) {
    const type = KNOWN.has(failure.type) ? failure.type : FailureType.UnexpectedError;
    return ApplicationFailure.nonRetryable(failure.message, type, ...details);
  }
  ends(failure);
  return ApplicationFailure.nonRetryable(failure.message, failure.type, ...details);
}

/** Classifying the failures that reach workflow code. */
import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { FailureType } from '../common/failures.ts';

/** A failure reduced to a stable type (common/failures.ts or another ApplicationFailure type) and a message. */
export interface FailureSummary {
  type: string;
  message: string;
}

/**
 * Reduces an error thrown by an activity, a child or the saga helper to its type and
 * message: the ApplicationFailure's `type` when there is one, `Cancelled` for a
 * cancellation, `UnexpectedError` for anything else (timeouts, exhausted retries).
 */
export function failureOf(err: unknown): FailureSummary {
  if (isCancellation(err)) return { type: FailureType.Cancelled, message: 'The saga was cancelled' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type) return { type: cause.type, message: cause.message };
  const message = cause instanceof Error ? cause.message : String(cause);
  return { type: FailureType.UnexpectedError, message };
}

/** The details of the business failure behind `err` (an activity's ApplicationFailure), or none. */
export function failureDetails(err: unknown): unknown[] {
  return (err as { cause?: { details?: unknown[] } }).cause?.details ?? [];
}

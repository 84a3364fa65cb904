/** Reading how an activity called directly in a test failed. */
import { ApplicationFailure } from '@temporalio/common';

/**
 * The `type` of the `ApplicationFailure` that `promise` rejects with (`OutOfStock`,
 * `SagaAlreadyCompensated`, ...); `'non-application'` for any other error; undefined
 * when it resolves.
 */
export async function failureType(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err instanceof ApplicationFailure ? (err.type ?? undefined) : 'non-application';
  }
}

/** The point top-up workflow: one idempotent ledger step, visible in the Web UI like the sagas. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { TopUpInput, TopUpResult } from '../common/points.ts';
import { FORWARD_STEP_OPTIONS } from './activity-options.ts';

const { topUpPoints: creditTopUp } = proxyActivities<Activities>(FORWARD_STEP_OPTIONS);

/**
 * Credits `amountPoints` to user `userId` once per `topUpId`; returns the new balance.
 * Fails with `UnknownUser` (non-retryable) when the user has no point account.
 */
export async function topUpPoints(input: TopUpInput): Promise<TopUpResult> {
  const entry = await creditTopUp(input);
  return { ...input, balancePoints: entry.balancePoints };
}

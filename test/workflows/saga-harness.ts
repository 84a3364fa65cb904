/**
 * Test-only workflow that drives the saga helper with fake activities, so the helper's
 * ordering, cancellation and failure semantics are checked on a real Temporal server.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import { Saga } from '../../workflows/saga.ts';
import { failureOf } from '../../workflows/failures.ts';
import type { CompensationRecord, StepRecord } from '../../common/saga.ts';

/** The fake activities the harness calls; the test records every call. */
export interface HarnessActivities {
  forward(name: string, fail: boolean): Promise<void>;
  undo(name: string, behaviour: 'ok' | 'flaky' | 'broken'): Promise<void>;
}

/** Plan of one harness run: forward steps in order, which one fails, and how each undo behaves. */
export interface HarnessPlan {
  steps: string[];
  failAt?: string;
  /** After the last step, wait for cancellation instead of finishing. */
  waitForCancel?: boolean;
  undo?: Record<string, 'ok' | 'flaky' | 'broken'>;
}

/** What the harness saw: the saga's records and the failure types it ended with. */
export interface HarnessResult {
  steps: StepRecord[];
  compensations: CompensationRecord[];
  failure?: string;
  compensationFailure?: string;
  compensationDetails?: unknown;
}

const acts = proxyActivities<HarnessActivities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '20ms', backoffCoefficient: 1, maximumAttempts: 5 },
});

/** Runs `plan` through a {@link Saga}; never fails, so the test can inspect the result. */
export async function sagaHarness(plan: HarnessPlan): Promise<HarnessResult> {
  const progress = { steps: [] as StepRecord[], compensations: [] as CompensationRecord[] };
  const saga = new Saga(progress);
  const result: HarnessResult = progress;
  try {
    for (const name of plan.steps) {
      saga.addCompensation(`undo-${name}`, () => acts.undo(name, plan.undo?.[name] ?? 'ok'));
      await saga.step(name, () => acts.forward(name, plan.failAt === name));
    }
    if (plan.waitForCancel) await sleep('1 day');
    return result;
  } catch (err) {
    result.failure = failureOf(err).type;
    try {
      await saga.compensate();
    } catch (compErr) {
      result.compensationFailure = failureOf(compErr).type;
      result.compensationDetails = (compErr as { details?: unknown[] }).details?.[0];
    }
    return result;
  }
}

/**
 * The saga helper on a real Temporal dev server: compensations run in reverse, run on
 * cancellation, are retried on transient failure, and a final failure is surfaced.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { testConfig } from '../helpers/db.ts';
import { bundleWorkflows, startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import type { HarnessActivities, HarnessPlan, HarnessResult } from '../workflows/saga-harness.ts';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
  bundle = await bundleWorkflows(fileURLToPath(new URL('../workflows/saga-harness.ts', import.meta.url)));
});

afterAll(async () => {
  await env?.teardown();
});

/** Fake activities that record every call (`name:attempt`) in order. */
function recordingActivities(calls: string[], onForward?: (name: string) => void): HarnessActivities {
  return {
    async forward(name, fail) {
      calls.push(`forward:${name}`);
      onForward?.(name);
      if (fail) throw ApplicationFailure.nonRetryable(`step ${name} refused`, 'OutOfStock');
    },
    async undo(name, behaviour) {
      const attempt = Context.current().info.attempt;
      calls.push(`undo:${name}:${attempt}`);
      if (behaviour === 'flaky' && attempt < 3) throw new Error(`transient failure of undo ${name}`);
      if (behaviour === 'broken') throw ApplicationFailure.nonRetryable(`undo ${name} cannot run`, 'LedgerClosed');
    },
  };
}

async function runHarness(plan: HarnessPlan, activities: HarnessActivities): Promise<HarnessResult> {
  const taskQueue = uniqueTaskQueue('saga');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  return worker.runUntil(
    env.client.workflow.execute('sagaHarness', { taskQueue, workflowId: `saga-${randomUUID()}`, args: [plan] }),
  );
}

describe('Saga helper', () => {
  it('runs the compensations of the steps so far in reverse order when a step fails', async () => {
    const calls: string[] = [];
    const result = await runHarness({ steps: ['a', 'b', 'c', 'd'], failAt: 'c' }, recordingActivities(calls));
    expect(result.failure).toBe('OutOfStock');
    expect(calls).toEqual(['forward:a', 'forward:b', 'forward:c', 'undo:c:1', 'undo:b:1', 'undo:a:1']);
    expect(result.compensations.map((c) => [c.name, c.state])).toEqual([
      ['undo-c', 'completed'],
      ['undo-b', 'completed'],
      ['undo-a', 'completed'],
    ]);
    expect(result.steps.map((s) => s.state)).toEqual(['completed', 'completed', 'failed']);
  });

  it('runs no compensation when every step succeeds', async () => {
    const calls: string[] = [];
    const result = await runHarness({ steps: ['a', 'b'] }, recordingActivities(calls));
    expect(calls).toEqual(['forward:a', 'forward:b']);
    expect(result.compensations).toEqual([]);
  });

  it('runs the compensations when the workflow is cancelled', async () => {
    const calls: string[] = [];
    let reachedLastStep!: () => void;
    const lastStep = new Promise<void>((resolve) => (reachedLastStep = resolve));
    const activities = recordingActivities(calls, (name) => name === 'b' && reachedLastStep());
    const taskQueue = uniqueTaskQueue('saga');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('sagaHarness', {
        taskQueue,
        workflowId: `saga-${randomUUID()}`,
        args: [{ steps: ['a', 'b'], waitForCancel: true } satisfies HarnessPlan],
      });
      await lastStep;
      await handle.cancel();
      return (await handle.result()) as HarnessResult;
    });
    expect(result.failure).toBe('Cancelled');
    expect(calls).toEqual(['forward:a', 'forward:b', 'undo:b:1', 'undo:a:1']);
  });

  it('retries a failing compensation until it succeeds', async () => {
    const calls: string[] = [];
    const result = await runHarness(
      { steps: ['a', 'b'], failAt: 'b', undo: { a: 'flaky' } },
      recordingActivities(calls),
    );
    expect(calls).toEqual(['forward:a', 'forward:b', 'undo:b:1', 'undo:a:1', 'undo:a:2', 'undo:a:3']);
    expect(result.compensationFailure).toBeUndefined();
    expect(result.compensations.every((c) => c.state === 'completed')).toBe(true);
  });

  it('surfaces a compensation that fails for good and still runs the earlier ones', async () => {
    const calls: string[] = [];
    const result = await runHarness(
      { steps: ['a', 'b', 'c'], failAt: 'c', undo: { b: 'broken' } },
      recordingActivities(calls),
    );
    expect(calls).toEqual(['forward:a', 'forward:b', 'forward:c', 'undo:c:1', 'undo:b:1', 'undo:a:1']);
    expect(result.compensationFailure).toBe('CompensationFailed');
    expect(result.compensationDetails).toEqual({ failures: [{ name: 'undo-b', type: 'LedgerClosed', message: 'undo b cannot run' }] });
    expect(result.compensations.map((c) => c.state)).toEqual(['completed', 'failed', 'completed']);
  });
});

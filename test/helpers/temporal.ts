/**
 * Temporal for tests: a real dev server per test file (TestWorkflowEnvironment.createLocal
 * on the existing `temporal` binary, found like the dev-server script finds it), the
 * workflow bundle built once per file, and a unique task queue per worker.
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SAGA_SEARCH_ATTRIBUTES } from '../../common/saga.ts';
import { findTemporalCli } from '../../scripts/temporal-cli.ts';
import type { AppConfig } from '../../config/index.ts';

let runtimeInstalled = false;

function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by an earlier suite in this process.
  }
  runtimeInstalled = true;
}

/** Starts a local dev server (SQLite in memory) with the sagas' search attributes registered. */
export async function startTestTemporal(config: AppConfig): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const path = await findTemporalCli({ cliPath: config.temporal.cliPath, build: false });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path },
      ip: '127.0.0.1',
      ui: false,
      searchAttributes: [...ALL_SAGA_SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/** Bundles a workflows module once; pass `workflowsPath` to bundle test-only workflows. */
export function bundleWorkflows(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') });
}

/** A task queue name no other test uses. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

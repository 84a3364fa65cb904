/**
 * Temporal for tests: a real dev server per test file (TestWorkflowEnvironment.createLocal
 * on the `temporal` binary that test/global-setup.ts found or built) or, when
 * TEST_TEMPORAL_ADDRESS is set (`npm run test:cluster`), the one running server there;
 * the workflow bundle built once per file, and a unique task queue per worker.
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { ALL_SAGA_SEARCH_ATTRIBUTES } from '../../common/saga.ts';
import { findTemporalCli } from '../../scripts/temporal-cli.ts';
import { loadConfig, type AppConfig } from '../../config/index.ts';

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

/**
 * The Temporal CLI of the tests: the one test/global-setup.ts found or built and handed
 * over as `TEMPORAL_CLI_PATH` (read through `config`), else the usual lookup (PATH,
 * `.tools/bin/temporal`) for code run outside jest. Never builds: a suite must not start
 * a build of several minutes itself.
 *
 * @throws Error with installation instructions when there is none.
 */
export function testTemporalCli(config: Pick<AppConfig, 'temporal'> = loadConfig()): Promise<string> {
  return findTemporalCli({ cliPath: config.temporal.cliPath, build: false });
}

/**
 * The Temporal server of a test file: with TEST_TEMPORAL_ADDRESS set in the
 * environment (e.g. the real server on PostgreSQL that `npm run test:cluster`
 * starts), that running server and its namespace (TEST_TEMPORAL_NAMESPACE, registered with
 * the sagas' search attributes), shared by every file: `teardown()` only closes the
 * connections, and no time skipping. Otherwise a local dev server (SQLite in memory) of
 * this file alone, with the sagas' search attributes registered on `default`.
 */
export async function startTestTemporal(config: AppConfig): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  // From this process's environment: testConfig() builds `config` from a fixed set of variables.
  const { testTemporal } = loadConfig();
  if (testTemporal.address) {
    return TestWorkflowEnvironment.createFromExistingServer({ address: testTemporal.address, namespace: testTemporal.namespace });
  }
  const path = await testTemporalCli(config);
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

/**
 * Resolves once the workflow has completed a workflow task after a cancellation was
 * requested, i.e. its code has seen the cancellation. (With local activities running, a
 * cancellation reaches the code only at the next workflow-task heartbeat.)
 */
export async function cancellationSeen(handle: WorkflowHandle): Promise<void> {
  const EventType = proto.temporal.api.enums.v1.EventType;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const requested = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
    if (requested >= 0 && events.slice(requested).some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

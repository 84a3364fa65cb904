/**
 * Building the saga worker: the one place that wires activities to their dependencies.
 * Used by worker/main.ts, the start-all script and the integration tests.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from '../activities/index.ts';

/** Absolute path of the workflow barrel the worker bundles. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** What {@link createSagaWorker} needs. `workflowBundle` skips bundling (tests bundle once). */
export interface SagaWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Activities to use instead of the real ones, by name (tests inject faults this way). */
  activityOverrides?: Partial<ReturnType<typeof createActivities>>;
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'shutdownGraceTime'>;
}

/** Creates (but does not run) a worker for both sagas on `taskQueue`. */
export function createSagaWorker(options: SagaWorkerOptions): Promise<Worker> {
  const activities = { ...createActivities(options.deps), ...options.activityOverrides };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...options.tuning,
  });
}

/** Adapts a pino logger to Temporal's Runtime logger interface (JSON lines, one logger). */
export function temporalLoggerFrom(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const pinoLevel = level === 'WARN' ? 'warn' : (level.toLowerCase() as 'trace' | 'debug' | 'info' | 'error');
    log[pinoLevel](meta ?? {}, message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

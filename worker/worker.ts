/**
 * Building the saga worker: the one place that wires activities to their dependencies.
 * Used by worker/main.ts, the start-all script and the integration tests.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/index.ts';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { createDataPlatformClient } from '../activities/data-platform.ts';
import type { Orm } from '../db/orm.ts';
import type { Tracing } from '../config/tracing.ts';
import { databaseFailureInterceptor } from './database-failures.ts';
import { requestIdActivityInterceptor } from './request-id.ts';
import { workerTracingOptions } from './tracing.ts';

// `.ts` when run from source, `.js` when compiled into dist/ by `npm run build`.
const COMPILED = import.meta.url.endsWith('.js');

/** Absolute path of the workflow barrel the worker bundles (workflows/index.ts, or its compiled .js). */
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index.${COMPILED ? 'js' : 'ts'}`, import.meta.url));

/**
 * The prebuilt workflow bundle that `npm run build` writes beside the compiled code
 * (dist/workflow-bundle.js), or `undefined` when running from source: a worker run from
 * source always bundles the workflows/ it runs, never a possibly stale build.
 */
export const PREBUILT_WORKFLOW_BUNDLE_PATH = COMPILED
  ? fileURLToPath(new URL('../workflow-bundle.js', import.meta.url))
  : undefined;

/**
 * The prebuilt bundle with the tracing interceptors as well (dist/workflow-bundle-tracing.js),
 * which a compiled worker with tracing on loads instead of {@link PREBUILT_WORKFLOW_BUNDLE_PATH}.
 */
export const PREBUILT_TRACING_WORKFLOW_BUNDLE_PATH = COMPILED
  ? fileURLToPath(new URL('../workflow-bundle-tracing.js', import.meta.url))
  : undefined;

/**
 * The workflow interceptor modules a bundle of the saga workflows includes: the request id
 * (workflows/request-id-interceptors.ts) always, OpenTelemetry's
 * (workflows/tracing-interceptors.ts) when `tracing`. A worker that bundles at start-up
 * passes them to the bundler; `npm run build` bundles both sets (scripts/build.ts).
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  const ext = COMPILED ? 'js' : 'ts';
  const modules = [fileURLToPath(new URL(`../workflows/request-id-interceptors.${ext}`, import.meta.url))];
  if (tracing) modules.push(fileURLToPath(new URL(`../workflows/tracing-interceptors.${ext}`, import.meta.url)));
  return modules;
}

/** What {@link createSagaWorker} needs. `workflowBundle` skips bundling (tests bundle once). */
export interface SagaWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * A prebuilt bundle file to load (config `WORKFLOW_BUNDLE_PATH`); it must exist. Without
   * it (and without `workflowBundle`), {@link PREBUILT_WORKFLOW_BUNDLE_PATH} when present.
   */
  workflowBundlePath?: string | undefined;
  /** Told which workflow code the worker loads. */
  logger?: Logger;
  /**
   * The process's started tracing (config/tracing.ts); undefined: tracing off, and no
   * tracing interceptor, sink or workflow module is installed.
   */
  tracing?: Tracing | undefined;
  /** Activities to use instead of the real ones, by name (tests inject faults this way). */
  activityOverrides?: Partial<ReturnType<typeof createActivities>>;
  tuning?: Pick<
    WorkerOptions,
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxConcurrentLocalActivityExecutions'
    | 'maxCachedWorkflows'
    | 'workflowTaskPollerBehavior'
    | 'activityTaskPollerBehavior'
    | 'shutdownGraceTime'
  >;
}

/** The worker's slots, pollers and cache from its config (unset ones keep the SDK's defaults). */
export function workerTuning(worker: AppConfig['worker']): NonNullable<SagaWorkerOptions['tuning']> {
  return {
    maxConcurrentActivityTaskExecutions: worker.maxActivities,
    maxConcurrentWorkflowTaskExecutions: worker.maxWorkflowTasks,
    maxConcurrentLocalActivityExecutions: worker.maxLocalActivities,
    shutdownGraceTime: worker.shutdownGraceMs,
    ...(worker.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: worker.maxCachedWorkflows } : {}),
    ...(worker.workflowTaskPollers !== undefined ? { workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: worker.workflowTaskPollers } } : {}),
    ...(worker.activityTaskPollers !== undefined ? { activityTaskPollerBehavior: { type: 'simple-maximum', maximum: worker.activityTaskPollers } } : {}),
  } as const;
}

/**
 * Creates (but does not run) a worker for both sagas on `taskQueue`. Every activity, normal
 * or local, runs behind {@link databaseFailureInterceptor}: a data exception or a constraint
 * violation from PostgreSQL fails it for good instead of being retried; and behind
 * {@link requestIdActivityInterceptor}, which puts the request id into its log records.
 * With `options.tracing`, the OpenTelemetry interceptors and workflow span sink as well
 * (worker/tracing.ts). A worker that bundles at start-up bundles the interceptor modules of
 * {@link workflowInterceptorModules}; a given bundle is used as it is.
 */
export async function createSagaWorker(options: SagaWorkerOptions): Promise<Worker> {
  const activities = { ...createActivities(options.deps), ...options.activityOverrides };
  const tracing = await workerTracingOptions(options.tracing);
  const workflows = workflowSource({ ...options, tracing: options.tracing !== undefined });
  options.logger?.info(
    'workflowsPath' in workflows ? { workflowsPath: workflows.workflowsPath } : { workflowBundle: workflowBundlePathOf(workflows) },
    'workflowsPath' in workflows ? 'bundling workflows from source' : 'loading the prebuilt workflow bundle',
  );
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    interceptors: {
      activity: [...tracing.activityInterceptors, requestIdActivityInterceptor, databaseFailureInterceptor],
      ...('workflowsPath' in workflows ? { workflowModules: workflowInterceptorModules(options.tracing !== undefined) } : {}),
    },
    sinks: tracing.sinks,
    ...workflows,
    ...options.tuning,
  });
}

/**
 * Creates (but does not run) the saga worker as `config` describes it: namespace, task
 * queue, workflow bundle, data-platform client and tuning, polling through `connection`,
 * its activities on `orm`. The process entry points use this; tests build theirs with
 * {@link createSagaWorker}.
 */
export function createConfiguredSagaWorker(
  config: AppConfig,
  connection: NativeConnection,
  orm: Orm,
  logger?: Logger,
  tracing?: Tracing,
): Promise<Worker> {
  return createSagaWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundlePath: config.worker.workflowBundlePath,
    ...(logger ? { logger } : {}),
    tracing,
    deps: {
      orm,
      dataPlatform: createDataPlatformClient({ baseUrl: config.dataPlatform.url, timeoutMs: config.dataPlatform.timeoutMs }),
      balanceLimitPoints: config.limits.balancePoints,
      orderTotalLimitWon: config.limits.orderTotalWon,
      holdLimits: config.holdLimits,
    },
    tuning: workerTuning(config.worker),
  });
}

type WorkflowSource = Pick<WorkerOptions, 'workflowBundle'> | Pick<WorkerOptions, 'workflowsPath'>;

/**
 * Which workflow code the worker runs: the given bundle, else the bundle file named by
 * `workflowBundlePath`, else the prebuilt bundle of a compiled worker when it exists (the
 * one with the tracing interceptors when `tracing`), else the workflows/ source, bundled
 * at start-up (a few seconds). A given bundle or `workflowBundlePath` is used as it is: it
 * has the interceptor modules it was built with (see {@link workflowInterceptorModules}).
 *
 * @throws Error when `workflowBundlePath` names a missing file.
 */
export function workflowSource(
  options: Pick<SagaWorkerOptions, 'workflowBundle' | 'workflowBundlePath'> & { tracing?: boolean },
): WorkflowSource {
  if (options.workflowBundle) return { workflowBundle: options.workflowBundle };
  if (options.workflowBundlePath) {
    if (!existsSync(options.workflowBundlePath)) {
      throw new Error(`WORKFLOW_BUNDLE_PATH: no workflow bundle at ${options.workflowBundlePath} (run \`npm run build\`)`);
    }
    return { workflowBundle: { codePath: options.workflowBundlePath } };
  }
  const prebuilt = options.tracing ? PREBUILT_TRACING_WORKFLOW_BUNDLE_PATH : PREBUILT_WORKFLOW_BUNDLE_PATH;
  if (prebuilt && existsSync(prebuilt)) {
    return { workflowBundle: { codePath: prebuilt } };
  }
  return { workflowsPath: WORKFLOWS_PATH };
}

function workflowBundlePathOf(source: WorkflowSource): string {
  const bundle = 'workflowBundle' in source ? source.workflowBundle : undefined;
  return bundle && 'codePath' in bundle ? bundle.codePath : '(in memory)';
}

/**
 * Adapts a pino logger to Temporal's Runtime logger interface, so that the SDK, the core
 * and the workflows' and activities' `log` write through the process's one logger, in
 * its format (`LOG_FORMAT`: JSON or pretty lines).
 */
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

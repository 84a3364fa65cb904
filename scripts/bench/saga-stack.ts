/**
 * The saga stack of a benchmark run, started as child processes (stack.ts): a Temporal
 * dev server of its own (or, with `--temporal cluster`, the real Temporal server on
 * PostgreSQL, scripts/temporal-cluster.ts, on databases of its own), the mock data
 * platform, the worker and the API (or both in one
 * process with `--combined`), each with the bench's environment: `NODE_ENV=production`,
 * `LOG_LEVEL=warn`, the bench database, the bench's token issuer, no rate limit. Shared by
 * the order checkout benchmark (main.ts) and the waiting-queue benchmark (queue.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { pino } from 'pino';
import { WORKFLOWS_PATH } from '../../worker/worker.ts';
import { databaseParts } from '../temporal-cluster-setup.ts';
import { clusterPorts, startTemporalCluster, type ClusterPorts } from '../temporal-cluster.ts';
import { withDatabase, type BenchDatabase } from './bench-db.ts';
import type { BenchOptions } from './options.ts';
import { COMBINED_ORDERS_PATH } from './paths.ts';
import type { ProcessGroup } from './proc.ts';
import { freePort, spawnNodePart, startTemporal, waitForPart, type StackPart } from './stack.ts';
import { benchAuthEnv } from './tokens.ts';

/** The Temporal namespace and task queue of every bench stack. */
export const BENCH_NAMESPACE = 'sagas';
const TASK_QUEUE = 'bench';

/** What starting a stack needs of the run. */
export interface StackContext {
  options: BenchOptions;
  /** The Temporal CLI given by the config (TEMPORAL_CLI_PATH), if any. */
  cliPath: string | undefined;
  /** URL of the bench database; `db` holds the bench's own connections to it. */
  benchDbUrl: string;
  db: BenchDatabase;
  /** Where each part writes its log file. */
  logDir: string;
  /** A temporary folder of the run (the dev server's SQLite file, the workflow bundle). */
  tmpDir: string;
  log: (line: string) => void;
}

/** Something of the stack the caller stops at the end, in reverse order of start. */
export type Stoppable = Pick<StackPart, 'name' | 'stop'>;

/** The saga stack once its API answers. */
export interface SagaStack {
  temporalAddress: string;
  /** The dev server's SQLite file, or undefined on the cluster (`--temporal cluster`). */
  temporalDbFile: string | undefined;
  apiUrl: string;
  orderPath: string;
  /** Its processes (PostgreSQL and this one included), in the order of the report. */
  groups: ProcessGroup[];
  /** When the worker (or the combined process) was spawned, Date.now() ms. */
  workerSpawned: number;
}

/** A fresh idempotency secret for the run's API (NODE_ENV=production requires one). */
const BENCH_IDEMPOTENCY_SECRET = randomBytes(32).toString('hex');

/** The environment every process of the bench gets (worker, API, data platform, baseline server). */
export function commonEnv(ctx: StackContext): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: ctx.benchDbUrl,
    TEMPORAL_NAMESPACE: BENCH_NAMESPACE,
    TASK_QUEUE: TASK_QUEUE,
    API_HOST: '127.0.0.1',
    WORKER_METRICS_ADDRESS: '',
    // The load sends thousands of writes per user; production requires a secret for the ids derived from Idempotency-Keys.
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
    IDEMPOTENCY_SECRET: BENCH_IDEMPOTENCY_SECRET,
    // Requests carry tokens of the bench's own development issuer; the API's metrics listener stays off.
    ...benchAuthEnv(),
    API_METRICS_ADDRESS: '',
    // The bench's mock data platform keeps its events in memory, not in the development file of `npm start`.
    DATA_PLATFORM_STORE_PATH: '',
    ...(ctx.cliPath ? { TEMPORAL_CLI_PATH: ctx.cliPath } : {}),
    ...ctx.options.extraEnv,
  };
}

/**
 * Starts the Temporal server (`--temporal`), data platform, worker and API; each part
 * joins `parts` as it is spawned (the caller stops them, in reverse). Throws when a part
 * exits during start-up or does not answer within a minute (see its log file).
 */
export async function startSagaStack(ctx: StackContext, parts: Stoppable[]): Promise<SagaStack> {
  const temporal = ctx.options.temporal === 'cluster' ? await startBenchCluster(ctx, parts) : await startDevServer(ctx, parts);
  const env = { ...commonEnv(ctx), TEMPORAL_ADDRESS: temporal.address };
  const dataPlatform = await startDataPlatform(ctx, env, parts);
  const workerEnv = await workerEnvironment(ctx, env, dataPlatform.url);
  const api = await startApiAndWorker(ctx, env, workerEnv, parts);
  const groups: ProcessGroup[] = [
    ...api.groups,
    ...temporal.groups,
    { name: 'data-platform', pids: () => [dataPlatform.part.pid] },
    { name: 'loadgen', pids: () => [process.pid] },
  ];
  return { temporalAddress: temporal.address, temporalDbFile: temporal.dbFile, apiUrl: api.url, orderPath: api.orderPath, groups, workerSpawned: api.workerSpawned };
}

/** A started Temporal server: its frontend, its SQLite file (dev server only) and the process groups it adds to the report. */
interface BenchTemporal {
  address: string;
  dbFile: string | undefined;
  groups: ProcessGroup[];
}

/** The dev server of the run (SQLite file in the run's temporary folder); PostgreSQL serves the bench database only. */
async function startDevServer(ctx: StackContext, parts: Stoppable[]): Promise<BenchTemporal> {
  ctx.log('saga: starting the Temporal dev server, data platform, worker and API');
  const dbFile = path.join(ctx.tmpDir, 'temporal.db');
  const temporal = await startTemporal({ dbFile, namespace: BENCH_NAMESPACE, logDir: ctx.logDir, flags: ctx.options.temporalFlags, cliPath: ctx.cliPath });
  parts.push(temporal.part);
  return {
    address: temporal.address,
    dbFile,
    groups: [
      { name: 'temporal', pids: () => [temporal.part.pid], trackMemory: true },
      { name: 'postgres', pids: ctx.db.postgresPids },
    ],
  };
}

/**
 * The databases of the run's real Temporal server: `<bench db>_temporal` and
 * `<bench db>_temporal_visibility` on the bench database's PostgreSQL server.
 */
export function benchClusterDatabases(benchDbUrl: string): { url: string; visibility: string } {
  const name = new URL(benchDbUrl).pathname.slice(1);
  return { url: withDatabase(benchDbUrl, `${name}_temporal`), visibility: `${name}_temporal_visibility` };
}

/**
 * Ports for the cluster's services ({@link clusterPorts} of a frontend port F, all free
 * now): F from 7395 up in steps of 20, clear of `npm run temporal:cluster` (7235) and of
 * `npm run test:cluster` (7255). Kept below 32768: the server stores its membership
 * (gossip) ports in a smallint column.
 *
 * @throws Error when no F up to 7995 has all its ports free.
 */
async function freeClusterPorts(): Promise<ClusterPorts> {
  for (let frontend = 7395; frontend <= 7995; frontend += 20) {
    const ports = clusterPorts(frontend);
    if ((await Promise.all(Object.values(ports).map(isPortFree))).every(Boolean)) return ports;
  }
  throw new Error('no free ports for the Temporal server between 7095 and 8005');
}

/** Whether 127.0.0.1:`port` can be bound now. */
async function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The real Temporal server on PostgreSQL (`--temporal cluster`, scripts/temporal-cluster.ts;
 * built with Go when missing) on free ports below 8006 and on databases of the run, dropped first so
 * a run starts from nothing as the dev server's fresh SQLite file does; its log in
 * `temporal.log`, no metrics endpoint. The report's `postgres` group stays the bench
 * database's backends; `postgres-temporal` is those of the server's two databases.
 */
async function startBenchCluster(ctx: StackContext, parts: Stoppable[]): Promise<BenchTemporal> {
  ctx.log('saga: starting the Temporal server on PostgreSQL, data platform, worker and API');
  const databases = benchClusterDatabases(ctx.benchDbUrl);
  const ports = await freeClusterPorts();
  const log = pino({ level: 'info' }, pino.destination({ dest: path.join(ctx.logDir, 'temporal.log'), sync: true }));
  const cluster = await startTemporalCluster({
    log,
    address: `127.0.0.1:${ports.frontendGrpc}`,
    ports,
    metricsAddress: null,
    databases,
    fresh: true,
    namespace: BENCH_NAMESPACE,
    serverLogLevel: 'warn',
  });
  parts.push({ name: 'temporal', stop: () => cluster.stop() });
  ctx.log(`saga: Temporal server ${cluster.address} ready in ${cluster.startMs} ms (databases ${new URL(databases.url).pathname.slice(1)}, ${databases.visibility})`);
  const { persistence, visibility } = databaseParts(databases);
  return {
    address: cluster.address,
    dbFile: undefined,
    groups: [
      { name: 'temporal', pids: () => [cluster.pid], trackMemory: true },
      { name: 'postgres', pids: ctx.db.postgresPids },
      { name: 'postgres-temporal', pids: () => ctx.db.backendPids([persistence, visibility]) },
    ],
  };
}

async function startDataPlatform(ctx: StackContext, env: Record<string, string>, parts: Stoppable[]): Promise<{ part: StackPart; url: string }> {
  const port = await freePort();
  const part = spawnNodePart('data-platform', 'data-platform/main.ts', { ...env, DATA_PLATFORM_HOST: '127.0.0.1', DATA_PLATFORM_PORT: String(port) }, ctx.logDir);
  parts.push(part);
  const url = `http://127.0.0.1:${port}`;
  await waitForPart(part, `${url}/healthz`);
  return { part, url };
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error(m: string) { process.stderr.write(`${m}\n`); } };

/** The worker's environment; with a workflow bundle built beforehand unless --no-prebuilt-bundle. */
async function workerEnvironment(ctx: StackContext, env: Record<string, string>, dataPlatformUrl: string): Promise<Record<string, string>> {
  const workerEnv: Record<string, string> = { ...env, DATA_PLATFORM_URL: dataPlatformUrl };
  if (ctx.options.prebuiltBundle) {
    const bundleFile = path.join(ctx.tmpDir, 'workflow-bundle.js');
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    await writeFile(bundleFile, code);
    workerEnv.WORKFLOW_BUNDLE_PATH = bundleFile;
  }
  return workerEnv;
}

/** Spawns the worker and the API (or both in one process with --combined); resolves once the API answers. */
async function startApiAndWorker(
  ctx: StackContext,
  env: Record<string, string>,
  workerEnv: Record<string, string>,
  parts: Stoppable[],
): Promise<{ url: string; orderPath: string; groups: ProcessGroup[]; workerSpawned: number }> {
  const { combined } = ctx.options;
  const apiPort = await freePort();
  const workerSpawned = Date.now();
  const url = `http://127.0.0.1:${apiPort}`;
  if (combined) {
    // Bench-only: API and worker in one process (eager workflow start needs it).
    if (combined !== 'update' && combined !== 'eager') throw new Error('--combined expects update or eager');
    const part = spawnNodePart('api+worker', 'scripts/bench/combined-server.ts', { ...workerEnv, API_PORT: String(apiPort) }, ctx.logDir);
    parts.push(part);
    await waitForPart(part, `${url}/healthz`);
    const groups = [{ name: 'api+worker', pids: () => [part.pid], trackMemory: true }];
    return { url, orderPath: `${COMBINED_ORDERS_PATH}?start=${combined}`, groups, workerSpawned };
  }
  const worker = spawnNodePart('worker', 'worker/main.ts', workerEnv, ctx.logDir);
  parts.push(worker);
  const api = spawnNodePart('api', 'api/server.ts', { ...env, API_PORT: String(apiPort) }, ctx.logDir);
  parts.push(api);
  await waitForPart(api, `${url}/healthz`);
  const groups = [{ name: 'api', pids: () => [api.pid], trackMemory: true }, { name: 'worker', pids: () => [worker.pid], trackMemory: true }];
  return { url, orderPath: '/orders', groups, workerSpawned };
}

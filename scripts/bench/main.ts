/**
 * `npm run bench`: how fast the order checkout saga is, and what durability costs next
 * to the single-transaction "facade" it replaces.
 *
 * 1. Creates, migrates and reseeds the bench database (`sagas_bench` next to
 *    DATABASE_URL's, or BENCH_DATABASE_URL).
 * 2. Saga: starts a Temporal dev server of its own (free port, SQLite file in a temporary
 *    folder), the mock data platform, the worker and the API as child processes; drives
 *    POST /orders in a closed loop at each concurrency level, then in an open loop at
 *    fixed arrival rates.
 * 3. Baseline: stops all that, starts the baseline server (the same Koa app with a route
 *    doing the same writes in one transaction) and drives it with the same load.
 * 4. Writes results.json, results.md and chart.svg to bench-results/<run>/ (and copies
 *    them to bench-results/latest.*), prints the tables.
 *
 * Options: --quick (a smoke run of a few seconds per system), --levels 1,8,32,128,
 * --rates 145,auto (orders/s of the open loop; auto: half and 80% of the best saga
 * throughput), --duration 20 --warmup 3 (s per level), --fail-share 0.1,
 * --env KEY=VALUE (repeatable; settings of the worker and API processes, e.g.
 * WORKER_MAX_CACHED_WORKFLOWS=500), --temporal-flag '<flag>' (repeatable; replaces the
 * dev server's tuning flags), --no-prebuilt-bundle, --skip-baseline, --skip-saga,
 * --combined update|eager (bench-only: API and worker in one process, see
 * combined-server.ts), --label <name>.
 * All load goes to 127.0.0.1, is bounded in time and stops by itself.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../../config/index.ts';
import { DEV_SERVER_TUNING_FLAGS } from '../temporal-dev-server.ts';
import { findTemporalCli, REPO_ROOT } from '../temporal-cli.ts';
import { WORKFLOWS_PATH } from '../../worker/worker.ts';
import { BASELINE_ORDERS_PATH, COMBINED_ORDERS_PATH } from './paths.ts';
import { closedLoop, openLoop, orderMix, OrderWatcher, type LevelResult, type LoadOptions, type OrderMixFixture } from './load.ts';
import { ProcessMeter, PROC_AVAILABLE, type Mark, type ProcessGroup } from './proc.ts';
import { sagaBreakdown } from './breakdown.ts';
import { markdown, writeReport, type BenchResults, type MachineInfo, type MeasuredLevel } from './report.ts';
import { freePort, prepareBenchDatabase, spawnNodePart, startTemporal, waitForPart, type StackPart } from './stack.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    levels: { type: 'string' },
    rates: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    'fail-share': { type: 'string', default: '0.1' },
    env: { type: 'string', multiple: true, default: [] },
    'temporal-flag': { type: 'string', multiple: true },
    'no-prebuilt-bundle': { type: 'boolean', default: false },
    'skip-baseline': { type: 'boolean', default: false },
    'skip-saga': { type: 'boolean', default: false },
    combined: { type: 'string' },
    label: { type: 'string', default: 'default' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'bench-results') },
  },
});

const quick = args.quick;
const levels = (args.levels ?? (quick ? '1,8' : '1,8,32,128')).split(',').map(Number);
const rateSpec = (args.rates ?? (quick ? '15' : '145,auto')).split(',');
const durationMs = Number(args.duration ?? (quick ? 3 : 20)) * 1000;
const warmupMs = Number(args.warmup ?? (quick ? 1 : 3)) * 1000;
const failShare = Number(args['fail-share']);
const extraEnv = Object.fromEntries(
  args.env.map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`--env expects KEY=VALUE, got ${kv}`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  }),
);
const temporalFlags = args['temporal-flag'] ? args['temporal-flag'].flatMap((f) => f.split(' ').filter(Boolean)) : [...DEV_SERVER_TUNING_FLAGS];

const config = loadConfig();
const benchDbUrl = process.env.BENCH_DATABASE_URL ?? withDatabase(config.database.url, 'sagas_bench');
const benchDbName = new URL(benchDbUrl).pathname.slice(1);
const NAMESPACE = 'sagas';
const TASK_QUEUE = 'bench';

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const startedAt = new Date();
const runName = `${startedAt.toISOString().replace(/[:.]/g, '-')}-${args.label}`;
const runDir = path.join(args.out, runName);
const logDir = path.join(runDir, 'logs');
await mkdir(logDir, { recursive: true });
const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'sagas-bench-'));

// PostgreSQL backends serving the bench database (their pids change as pools grow and
// shrink). The connection that lists them survives a database restart: it reconnects.
const adminUrl = benchDbUrl.replace(/\/[^/]*$/, '/postgres');
let pgClient: pg.Client | undefined;
async function adminQuery<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<Row[]> {
  if (!pgClient) {
    const c = new pg.Client({ connectionString: adminUrl });
    c.on('error', () => {
      if (pgClient === c) pgClient = undefined;
    });
    await c.connect();
    pgClient = c;
  }
  try {
    return (await pgClient.query<Row>(sql, params)).rows;
  } catch (err) {
    watcher.close();
  await pgClient?.end().catch(() => undefined);
  await benchClient?.end().catch(() => undefined);
    pgClient = undefined;
    throw err;
  }
}
// Outcomes of orders answered 202, read from their rows (no load on the API or Temporal).
const watcher = new OrderWatcher(async (ids) => {
  const db = await benchDb();
  return (await db.query<{ id: string; status: string }>('select id, status from orders where id = any($1::uuid[])', [ids])).rows;
});
let benchClient: pg.Client | undefined;
async function benchDb(): Promise<pg.Client> {
  if (!benchClient) {
    const c = new pg.Client({ connectionString: benchDbUrl });
    c.on('error', () => {
      if (benchClient === c) benchClient = undefined;
    });
    await c.connect();
    benchClient = c;
  }
  return benchClient;
}
let pgPids: number[] = [];
let pgPidsAt = 0;
async function postgresPids(): Promise<number[]> {
  if (Date.now() - pgPidsAt > 1000) {
    pgPidsAt = Date.now();
    try {
      pgPids = (await adminQuery<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [benchDbName])).map((r) => r.pid);
    } catch {
      // keep the last list; the next sample tries again
    }
  }
  return pgPids;
}

const results: BenchResults = {
  startedAt: startedAt.toISOString(),
  finishedAt: '',
  quick,
  label: args.label,
  machine: await machineInfo(),
  loadAvgBefore: os.loadavg().map((v) => Math.round(v * 100) / 100),
  settings: {
    levels,
    rates: rateSpec,
    durationS: durationMs / 1000,
    warmupS: warmupMs / 1000,
    failShare,
    env: extraEnv,
    temporalFlags,
    prebuiltBundle: !args['no-prebuilt-bundle'],
    combined: args.combined ?? null,
    database: benchDbName,
    procAvailable: PROC_AVAILABLE,
  },
  saga: [],
  baseline: [],
  startup: {},
  breakdowns: [],
  ratios: { bestThroughput: null, p50AtConcurrency: {}, throughputAtConcurrency: {} },
  targets: [],
};

async function machineInfo(): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    postgres: 'unknown',
    temporalCli: 'unknown',
  };
}

/** Runs one level and measures the processes of `groups` over its window. */
async function measure(system: 'saga' | 'baseline', groups: ProcessGroup[], load: (o: LoadOptions) => Promise<LevelResult>, base: Omit<LoadOptions, 'onWindow'>): Promise<MeasuredLevel> {
  const meter = new ProcessMeter(groups);
  await meter.start();
  let from: Mark | undefined;
  let to: Mark | undefined;
  const result = await load({
    ...base,
    onWindow: async (edge) => {
      if (edge === 'start') from = await meter.mark();
      else to = await meter.mark();
    },
  });
  meter.stop();
  const usage = meter.usage(from!, to!);
  const completed = result.throughput * result.durationS;
  const cpuMsPerOrder = Object.fromEntries(
    Object.entries(usage).map(([g, u]) => [g, u.cpuMs === null || completed === 0 ? null : Math.round((u.cpuMs / completed) * 100) / 100]),
  );
  const level: MeasuredLevel = { system, ...result, loadAvg1: Math.round(os.loadavg()[0]! * 100) / 100, usage, cpuMsPerOrder };
  const cpu = Object.entries(cpuMsPerOrder).map(([g, v]) => `${g} ${v ?? 'n/a'}`).join(', ');
  log(
    `  => ${result.throughput} orders/s; HTTP p50 ${result.http.p50} p99 ${result.http.p99} ms; saga p50 ${result.saga.p50} p99 ${result.saga.p99} max ${result.saga.max} ms; ` +
      `compensated ${(result.compensatedShare * 100).toFixed(1)}%; errors ${result.errors}${result.errors ? ` ${JSON.stringify(result.errorKinds)}` : ''}; CPU ms/order: ${cpu}; load avg ${level.loadAvg1}`,
  );
  await sleep(quick ? 500 : 2000);
  return level;
}

/** Drives every closed-loop level, then every open-loop rate, against `url` + `orderPath`. */
async function runLevels(system: 'saga' | 'baseline', url: string, orderPath: string, groups: ProcessGroup[], fixture: OrderMixFixture, clientLevels: number[], rates: number[]): Promise<MeasuredLevel[]> {
  const out: MeasuredLevel[] = [];
  const base = { url, path: orderPath, next: orderMix(fixture, failShare, system === 'saga' ? 1 : 2), warmupMs, durationMs, drainMs: 30_000, progress: log, watch: watcher.watch };
  for (const clients of clientLevels) {
    log(`${system}: closed loop, ${clients} clients, ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s`);
    out.push(await measure(system, groups, (o) => closedLoop(o, clients), base));
  }
  for (const rate of rates) {
    log(`${system}: open loop, ${rate} orders/s, ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s`);
    out.push(await measure(system, groups, (o) => openLoop(o, rate), base));
  }
  return out;
}

/** Sends orders one by one until `wanted` were CONFIRMED (the stack works end to end). */
async function warmUp(url: string, orderPath: string, fixture: OrderMixFixture, wanted: number, timeoutMs: number): Promise<void> {
  const pool = new Pool(url, { connections: 1 });
  const next = orderMix(fixture, 0, 99);
  const deadline = Date.now() + timeoutMs;
  let confirmed = 0;
  let last = '';
  try {
    while (confirmed < wanted) {
      if (Date.now() > deadline) throw new Error(`the stack confirmed ${confirmed} of ${wanted} warm-up orders in ${timeoutMs} ms (last answer: ${last})`);
      try {
        const res = await pool.request({ path: orderPath, method: 'POST', headers: { 'content-type': 'application/json' }, body: next().body });
        last = `${res.statusCode} ${(await res.body.text()).slice(0, 200)}`;
        if (res.statusCode === 201) confirmed += 1;
        else await sleep(200);
      } catch (err) {
        last = (err as Error).message;
        await sleep(200);
      }
    }
  } finally {
    await pool.close();
  }
}

function commonEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: benchDbUrl,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TASK_QUEUE: TASK_QUEUE,
    API_HOST: '127.0.0.1',
    WORKER_METRICS_ADDRESS: '',
    ...(config.temporal.cliPath ? { TEMPORAL_CLI_PATH: config.temporal.cliPath } : {}),
    ...extraEnv,
  };
}

async function runSaga(fixture: OrderMixFixture): Promise<void> {
  const parts: StackPart[] = [];
  try {
    log('saga: starting the Temporal dev server, data platform, worker and API');
    const temporal = await startTemporal({ dbFile: path.join(tmpDir, 'temporal.db'), namespace: NAMESPACE, logDir, flags: temporalFlags, cliPath: config.temporal.cliPath });
    parts.push(temporal.part);
    const env = { ...commonEnv(), TEMPORAL_ADDRESS: temporal.address };

    const dpPort = await freePort();
    const dataPlatform = spawnNodePart('data-platform', 'data-platform/main.ts', { ...env, DATA_PLATFORM_HOST: '127.0.0.1', DATA_PLATFORM_PORT: String(dpPort) }, logDir);
    parts.push(dataPlatform);
    const dataPlatformUrl = `http://127.0.0.1:${dpPort}`;
    await waitForPart(dataPlatform, `${dataPlatformUrl}/healthz`);

    const workerEnv: Record<string, string> = { ...env, DATA_PLATFORM_URL: dataPlatformUrl };
    if (!args['no-prebuilt-bundle']) {
      const bundleFile = path.join(tmpDir, 'workflow-bundle.js');
      const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
      await writeFile(bundleFile, code);
      workerEnv.WORKFLOW_BUNDLE_PATH = bundleFile;
    }
    const apiPort = await freePort();
    const workerSpawned = Date.now();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    let orderPath = '/orders';
    const processGroups: ProcessGroup[] = [];
    if (args.combined) {
      // Bench-only: API and worker in one process (eager workflow start needs it).
      if (args.combined !== 'update' && args.combined !== 'eager') throw new Error('--combined expects update or eager');
      const combined = spawnNodePart('api+worker', 'scripts/bench/combined-server.ts', { ...workerEnv, API_PORT: String(apiPort) }, logDir);
      parts.push(combined);
      orderPath = `${COMBINED_ORDERS_PATH}?start=${args.combined}`;
      processGroups.push({ name: 'api+worker', pids: () => [combined.pid], trackMemory: true });
      await waitForPart(combined, `${apiUrl}/healthz`);
    } else {
      const worker = spawnNodePart('worker', 'worker/main.ts', workerEnv, logDir);
      parts.push(worker);
      const api = spawnNodePart('api', 'api/server.ts', { ...env, API_PORT: String(apiPort) }, logDir);
      parts.push(api);
      processGroups.push({ name: 'api', pids: () => [api.pid], trackMemory: true }, { name: 'worker', pids: () => [worker.pid], trackMemory: true });
      await waitForPart(api, `${apiUrl}/healthz`);
    }
    results.startup.apiReadyMs = Date.now() - workerSpawned;
    await warmUp(apiUrl, orderPath, fixture, 3, 120_000);
    results.startup.firstOrdersConfirmedMs = Date.now() - workerSpawned;
    log(`saga: stack ready (worker spawned ${results.startup.firstOrdersConfirmedMs} ms before the warm-up orders were confirmed)`);

    const groups: ProcessGroup[] = [
      ...processGroups,
      { name: 'temporal', pids: () => [temporal.part.pid], trackMemory: true },
      { name: 'postgres', pids: postgresPids },
      { name: 'data-platform', pids: () => [dataPlatform.pid] },
      { name: 'loadgen', pids: () => [process.pid] },
    ];
    const fixedRates = rateSpec.filter((r) => r !== 'auto').map(Number);
    const closed = await runLevels('saga', apiUrl, orderPath, groups, fixture, levels, []);
    results.saga.push(...closed);
    const best = Math.max(...closed.map((l) => l.throughput));
    const rates = [...fixedRates, ...(rateSpec.includes('auto') ? [Math.round(best * 0.5), Math.round(best * 0.8)] : [])];
    const uniqueRates = [...new Set(rates.filter((r) => r > 0))].sort((a, b) => a - b);
    results.settings.openLoopRates = uniqueRates;
    results.saga.push(...(await runLevels('saga', apiUrl, orderPath, groups, fixture, [], uniqueRates)));
    // Per-step breakdown from histories: one client, and the slowest open-loop rate.
    for (const level of [results.saga.find((l) => l.mode === 'closed' && l.concurrency === 1), results.saga.find((l) => l.mode === 'open')]) {
      if (!level || level.sampleOrders.length === 0) continue;
      const name = level.mode === 'closed' ? `${level.concurrency} clients` : `${level.targetRate}/s open loop`;
      results.breakdowns.push(await sagaBreakdown(temporal.address, NAMESPACE, name, level.sampleOrders));
    }
    if (args.combined === 'eager') {
      const res = await fetch(`${apiUrl}/bench/eager-misses`);
      const counts = (await res.json()) as { eagerMisses: number; updatesTooLate: number };
      results.settings.eagerStartMisses = counts.eagerMisses;
      results.settings.eagerUpdatesAfterCompletion = counts.updatesTooLate;
    }
  } finally {
    for (const part of parts.reverse()) await part.stop();
  }
}

async function runBaseline(fixture: OrderMixFixture): Promise<void> {
  log('baseline: starting the single-transaction server');
  const port = await freePort();
  const server = spawnNodePart('baseline', 'scripts/bench/baseline-server.ts', { ...commonEnv(), API_PORT: String(port) }, logDir);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForPart(server, `${url}/products`);
    await warmUp(url, BASELINE_ORDERS_PATH, fixture, 3, 30_000);
    const groups: ProcessGroup[] = [
      { name: 'baseline', pids: () => [server.pid], trackMemory: true },
      { name: 'postgres', pids: postgresPids },
      { name: 'loadgen', pids: () => [process.pid] },
    ];
    const rates = (results.settings.openLoopRates as number[] | undefined) ?? rateSpec.filter((r) => r !== 'auto').map(Number);
    results.baseline.push(...(await runLevels('baseline', url, BASELINE_ORDERS_PATH, groups, fixture, levels, rates)));
  } finally {
    await server.stop();
  }
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error(m: string) { process.stderr.write(`${m}\n`); } };

function computeRatios(): void {
  const closed = (sys: MeasuredLevel[]) => sys.filter((l) => l.mode === 'closed');
  const bestOf = (sys: MeasuredLevel[]) => Math.max(0, ...sys.map((l) => l.throughput));
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
  if (results.saga.length && results.baseline.length) {
    results.ratios.bestThroughput = ratio(bestOf(closed(results.saga)), bestOf(closed(results.baseline)));
    for (const s of closed(results.saga)) {
      const b = closed(results.baseline).find((l) => l.concurrency === s.concurrency);
      if (!b) continue;
      results.ratios.throughputAtConcurrency[String(s.concurrency)] = ratio(s.throughput, b.throughput);
      results.ratios.p50AtConcurrency[String(s.concurrency)] = ratio(s.saga.p50, b.saga.p50);
    }
  }
  if (results.saga.length === 0) return;
  const best = bestOf(results.saga);
  results.targets.push({ name: '>= 290 completed sagas/s at the best setting', value: `${best}/s`, met: best >= 290 });
  const half = results.saga.find((l) => l.mode === 'open' && l.targetRate === 145);
  results.targets.push({
    name: 'at 145/s (open loop): saga p50 <= 40 ms, p99 <= 200 ms',
    value: half ? `p50 ${half.saga.p50} ms, p99 ${half.saga.p99} ms (${half.throughput}/s, ${half.errors} errors)` : 'not measured',
    met: half ? half.saga.p50 <= 40 && half.saga.p99 <= 200 && half.errors === 0 : null,
  });
  if (results.ratios.bestThroughput !== null) {
    results.targets.push({ name: 'saga throughput >= 0.25 x baseline', value: String(results.ratios.bestThroughput), met: results.ratios.bestThroughput >= 0.25 });
  }
  results.targets.push({ name: 'CPU ms per saga for API, worker, Temporal, PostgreSQL reported', value: PROC_AVAILABLE ? 'yes' : 'no /proc', met: PROC_AVAILABLE });
}

let failed = false;
try {
  // Finds the Temporal CLI, or builds it (a few minutes, once) as `npm start` does.
  const cli = await findTemporalCli({ cliPath: config.temporal.cliPath, progress: log });
  results.machine.temporalCli = execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim().replace(/^temporal version /, '');
  results.machine.postgres = `PostgreSQL ${(await adminQuery<{ server_version: string }>('show server_version'))[0]!.server_version}`;
  log(`bench: database ${benchDbName}, results in ${runDir}${quick ? ' (quick)' : ''}; load average ${results.loadAvgBefore.join(' ')}`);
  const fixture = await prepareBenchDatabase(benchDbUrl);
  if (!args['skip-saga']) await runSaga(fixture);
  if (!args['skip-baseline']) await runBaseline(fixture);
  computeRatios();
} catch (err) {
  failed = true;
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\nlogs: ${logDir}\n`);
} finally {
  watcher.close();
  await pgClient?.end().catch(() => undefined);
  await benchClient?.end().catch(() => undefined);
  await rm(tmpDir, { recursive: true, force: true });
}
results.finishedAt = new Date().toISOString();
if (results.saga.length + results.baseline.length > 0) {
  const files = await writeReport(runDir, results);
  for (const [kind, file] of Object.entries(files)) await copyFile(file, path.join(args.out, `latest.${kind}`));
  log('');
  log(markdown(results));
  log(`written: ${files.json}, ${files.md}, ${files.svg} (and ${path.join(args.out, 'latest.*')})`);
}
process.exit(failed ? 1 : 0);

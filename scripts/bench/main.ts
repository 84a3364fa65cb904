/**
 * `npm run bench`: how fast the order checkout saga is, and what durability costs next
 * to the single-transaction "facade" it replaces.
 *
 * 1. Creates, migrates and reseeds the bench database (`sagas_bench` next to
 *    DATABASE_URL's, or BENCH_DATABASE_URL).
 * 2. Saga: starts a Temporal dev server of its own (free port, SQLite file in a temporary
 *    folder; or with `--temporal cluster` the real server on PostgreSQL, databases
 *    `<bench db>_temporal*`), the mock data platform, the worker and the API as child processes; drives
 *    POST /orders in a closed loop at each concurrency level, then in an open loop at
 *    fixed arrival rates.
 * 3. Baseline: stops all that, starts the baseline server (the same Koa app with a route
 *    doing the same writes in one transaction) and drives it with the same load.
 * 4. Writes results.json, results.md and chart.svg to bench-results/<run>/ (and copies
 *    them to bench-results/latest.*), prints the tables.
 *
 * Options: --quick (a smoke run of a few seconds per system), --levels 1,8,32,128,
 * --rates 145,auto (orders/s of the open loop; auto: half and 80% of the best saga
 * throughput), --duration 20 --warmup 3 (s per level), --fail-share 0.1, --coupon-share 0.2,
 * --env KEY=VALUE (repeatable; settings of the worker and API processes, e.g.
 * WORKER_MAX_CACHED_WORKFLOWS=500), --temporal-flag '<flag>' (repeatable; replaces the
 * dev server's tuning flags), --no-prebuilt-bundle, --skip-baseline, --skip-saga,
 * --combined update|eager (bench-only: API and worker in one process, see
 * combined-server.ts), --label <name>.
 * `--steady 600 --steady-rate 20` runs one long open loop in 60 s windows instead (steady.ts).
 * `--queue` runs the waiting-queue benchmark instead (queue.ts; --queue-limit 50,
 * --queue-users 10000, --queue-rate 1000, --queue-drain-users 1000).
 * All load goes to 127.0.0.1, is bounded in time and stops by itself.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { findTemporalCli } from '../temporal-cli.ts';
import { BenchDatabase, withDatabase } from './bench-db.ts';
import { sagaBreakdown } from './breakdown.ts';
import { runLevels, warmUp, type LevelSettings, type SystemUnderTest } from './measure.ts';
import type { OrderMixFixture } from './order-mix.ts';
import { withUserTokens } from './tokens.ts';
import { parseBenchOptions } from './options.ts';
import { BASELINE_ORDERS_PATH } from './paths.ts';
import type { ProcessGroup } from './proc.ts';
import { markdown, writeReport } from './report.ts';
import { computeRatios, newResults } from './results.ts';
import { BENCH_NAMESPACE, commonEnv, startSagaStack, type StackContext, type Stoppable } from './saga-stack.ts';
import { freePort, prepareBenchDatabase, spawnNodePart, waitForPart } from './stack.ts';
import { runSteady, writeSteady } from './steady.ts';
import { outboxLatency, outboxLatencyLine } from './outbox-latency.ts';

const options = parseBenchOptions();
const config = loadConfig();
const benchDbUrl = process.env.BENCH_DATABASE_URL ?? withDatabase(config.database.url, 'sagas_bench');
if (options.queue) {
  // The waiting-queue benchmark is a run of its own (queue.ts).
  const { runQueueBench } = await import('./queue.ts');
  process.exit(await runQueueBench(options, options.queue, config, benchDbUrl));
}
const db = new BenchDatabase(benchDbUrl);

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const startedAt = new Date();
const runName = `${startedAt.toISOString().replace(/[:.]/g, '-')}-${options.label}`;
const runDir = path.join(options.out, runName);
const logDir = path.join(runDir, 'logs');
await mkdir(logDir, { recursive: true });
const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'sagas-bench-'));
const stackContext: StackContext = { options, cliPath: config.temporal.cliPath, benchDbUrl, db, logDir, tmpDir, log };

const results = newResults(options, startedAt, db.name);
const levelSettings: LevelSettings = {
  failShare: options.failShare,
  couponShare: options.couponShare,
  warmupMs: options.warmupMs,
  durationMs: options.durationMs,
  pauseMs: options.quick ? 500 : 2000,
  watch: db.watcher.watch,
  log,
};

/** Closed-loop levels, then the open-loop rates (`auto` ones derived from the best closed-loop throughput). */
async function measureSaga(target: SystemUnderTest): Promise<void> {
  const fixedRates = options.rateSpec.filter((r) => r !== 'auto').map(Number);
  const closed = await runLevels(target, options.levels, [], levelSettings);
  results.saga.push(...closed);
  const best = Math.max(...closed.map((l) => l.throughput));
  const rates = [...fixedRates, ...(options.rateSpec.includes('auto') ? [Math.round(best * 0.5), Math.round(best * 0.8)] : [])];
  const uniqueRates = [...new Set(rates.filter((r) => r > 0))].sort((a, b) => a - b);
  results.settings.openLoopRates = uniqueRates;
  results.saga.push(...(await runLevels(target, [], uniqueRates, levelSettings)));
}

/** Per-step breakdown from histories: one client, and the slowest open-loop rate. */
async function addBreakdowns(temporalAddress: string): Promise<void> {
  for (const level of [results.saga.find((l) => l.mode === 'closed' && l.concurrency === 1), results.saga.find((l) => l.mode === 'open')]) {
    if (!level || level.sampleOrders.length === 0) continue;
    const name = level.mode === 'closed' ? `${level.concurrency} clients` : `${level.targetRate}/s open loop`;
    results.breakdowns.push(await sagaBreakdown(temporalAddress, BENCH_NAMESPACE, name, level.sampleOrders));
  }
}

async function readEagerCounts(apiUrl: string): Promise<void> {
  const res = await fetch(`${apiUrl}/bench/eager-misses`);
  const counts = (await res.json()) as { eagerMisses: number; updatesTooLate: number };
  results.settings.eagerStartMisses = counts.eagerMisses;
  results.settings.eagerUpdatesAfterCompletion = counts.updatesTooLate;
}

async function runSaga(fixture: OrderMixFixture): Promise<void> {
  const parts: Stoppable[] = [];
  try {
    const stack = await startSagaStack(stackContext, parts);
    results.startup.apiReadyMs = Date.now() - stack.workerSpawned;
    await warmUp(stack.apiUrl, stack.orderPath, fixture, 3, 120_000);
    results.startup.firstOrdersConfirmedMs = Date.now() - stack.workerSpawned;
    log(`saga: stack ready (worker spawned ${results.startup.firstOrdersConfirmedMs} ms before the warm-up orders were confirmed)`);
    const target: SystemUnderTest = { system: 'saga', url: stack.apiUrl, orderPath: stack.orderPath, groups: stack.groups, fixture };
    if (options.steady) {
      const windows = await runSteady(target, options.steady, levelSettings, db, path.join(tmpDir, 'temporal.db'));
      log(`\n${await writeSteady(runDir, options.steady, windows)}`);
      return;
    }
    await measureSaga(target);
    await addBreakdowns(stack.temporalAddress);
    if (options.combined === 'eager') await readEagerCounts(stack.apiUrl);
  } finally {
    for (const part of parts.reverse()) await part.stop();
  }
}

async function runBaseline(fixture: OrderMixFixture): Promise<void> {
  log('baseline: starting the single-transaction server');
  const port = await freePort();
  const server = spawnNodePart('baseline', 'scripts/bench/baseline-server.ts', { ...commonEnv(stackContext), API_PORT: String(port) }, logDir);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForPart(server, `${url}/products`);
    await warmUp(url, BASELINE_ORDERS_PATH, fixture, 3, 30_000);
    const groups: ProcessGroup[] = [
      { name: 'baseline', pids: () => [server.pid], trackMemory: true },
      { name: 'postgres', pids: db.postgresPids },
      { name: 'loadgen', pids: () => [process.pid] },
    ];
    const rates = (results.settings.openLoopRates as number[] | undefined) ?? options.rateSpec.filter((r) => r !== 'auto').map(Number);
    results.baseline.push(...(await runLevels({ system: 'baseline', url, orderPath: BASELINE_ORDERS_PATH, groups, fixture }, options.levels, rates, levelSettings)));
  } finally {
    await server.stop();
  }
}

let failed = false;
try {
  // Finds the Temporal CLI, or builds it (a few minutes, once) as `npm start` does.
  const cli = await findTemporalCli({ cliPath: config.temporal.cliPath, progress: log });
  results.machine.temporalCli = execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim().replace(/^temporal version /, '');
  results.machine.postgres = `PostgreSQL ${(await db.adminQuery<{ server_version: string }>('show server_version'))[0]!.server_version}`;
  log(`bench: database ${db.name}, results in ${runDir}${options.quick ? ' (quick)' : ''}; load average ${results.loadAvgBefore.join(' ')}`);
  const fixture = await withUserTokens(await prepareBenchDatabase(benchDbUrl), config.auth);
  if (!options.skipSaga) await runSaga(fixture);
  if (!options.skipBaseline && !options.steady) await runBaseline(fixture);
  computeRatios(results);
} catch (err) {
  failed = true;
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\nlogs: ${logDir}\n`);
} finally {
  await db.close();
  await rm(tmpDir, { recursive: true, force: true });
}
results.finishedAt = new Date().toISOString();
if (results.saga.length + results.baseline.length > 0) {
  const files = await writeReport(runDir, results);
  for (const [kind, file] of Object.entries(files)) await copyFile(file, path.join(options.out, `latest.${kind}`));
  log('');
  log(markdown(results));
  log(`written: ${files.json}, ${files.md}, ${files.svg} (and ${path.join(options.out, 'latest.*')})`);
}
if (!options.skipSaga) {
  // The relay's commit-to-delivered latency over the run's events (the bench database is kept).
  try {
    log(outboxLatencyLine(await outboxLatency(benchDbUrl, startedAt)));
  } catch (err) {
    log(`outbox latency: not read (${(err as Error).message})`);
  }
}
process.exit(failed ? 1 : 0);

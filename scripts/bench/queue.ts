/**
 * `npm run bench -- --queue`: the waiting queue (issue 15) under load, on the saga stack
 * the order benchmark starts (its own Temporal dev server, the mock data platform, the
 * worker with the admission driver, the API; PostgreSQL's bench database), with
 * QUEUE_ACTIVE_LIMIT = `--queue-limit`.
 *
 * 1. Seeds the bench database: `max(--queue-users, --queue-drain-users)` users with points,
 *    a concert with a warm-up, a storm and a drain performance, one seat per drain user;
 *    mints every user's bearer token.
 * 2. Warm-up: three users join, hold and pay on the warm-up performance (the stack works
 *    end to end), then a burst of joins there at half the storm's rate.
 * 3. Join storm: every user joins the storm performance once, `--queue-rate` joins/s, open
 *    loop (queue-storm.ts); answers, latency, FIFO; the token table's cap and order.
 * 4. Drain: `--queue-drain-users` users join the drain performance at the same rate, read
 *    their token until ACTIVE, hold their seat and pay (queue-drain.ts); admissions/s,
 *    confirmations/s, admission latency from the token table, hold and pay latency.
 * CPU time of every process is measured over each phase (proc.ts). Writes results.json and
 * results.md to bench-results/<run>/ (copies: bench-results/latest-queue.*), prints them.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { AppConfig } from '../../config/index.ts';
import { findTemporalCli } from '../temporal-cli.ts';
import { BenchDatabase } from './bench-db.ts';
import type { BenchOptions, QueueBenchOptions } from './options.ts';
import { ProcessMeter, type ProcessGroup } from './proc.ts';
import { startDiagnostics } from './queue-diagnostics.ts';
import { runDrain } from './queue-drain.ts';
import { prepareQueueDatabase, type QueueFixture } from './queue-fixture.ts';
import { queueMarkdown, writeQueueReport } from './queue-report.ts';
import { drainFigures, phaseCpu, queueTargets, tableChecks, type DrainFigures, type QueueBenchResults, type StormFigures } from './queue-results.ts';
import { analyzeJoins, joinInOpenLoop } from './queue-storm.ts';
import { loadConfirmations, loadTokenTimeline } from './queue-table.ts';
import { newResults } from './results.ts';
import { startSagaStack, type StackContext } from './saga-stack.ts';
import type { StackPart } from './stack.ts';
import { mintUserTokens } from './tokens.ts';

/** How long the storm waits for its last answers after the last join was due, ms (a server far behind needs long). */
const STORM_DRAIN_MS = 120_000;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** What the phases share: the API's pool, the fixture, the tokens, the processes to measure. */
interface QueueRun {
  q: QueueBenchOptions;
  db: BenchDatabase;
  pool: Pool;
  fixture: QueueFixture;
  tokens: ReadonlyMap<number, string>;
  groups: ProcessGroup[];
}

/** Runs `work` with the processes' CPU and the diagnostics measured over it; returns its result, the usage, the diagnostics and the wall time in s. */
async function metered<T>(run: QueueRun, work: () => Promise<T>) {
  const meter = new ProcessMeter(run.groups);
  await meter.start();
  const from = await meter.mark();
  const sampler = startDiagnostics(run.db);
  const t0 = performance.now();
  const result = await work();
  const wallS = (performance.now() - t0) / 1000;
  const diagnostics = await sampler.stop();
  const to = await meter.mark();
  meter.stop();
  return { result, usage: meter.usage(from, to), diagnostics, wallS };
}

/** Three users join, hold and pay, then a burst of joins at half the rate; throws unless the three confirm. */
async function warmUp(run: QueueRun): Promise<void> {
  const { fixture, pool, tokens, q } = run;
  log('queue: warm-up (3 users join, hold and pay; then a burst of joins)');
  const visits = await runDrain(pool, {
    performanceId: fixture.warmUpPerformanceId,
    userIds: fixture.userIds.slice(0, 3),
    seatIds: fixture.warmUpSeatIds,
    tokens,
    rate: 2,
    deadline: Date.now() + 120_000,
  });
  const failed = visits.filter((v) => v.confirmedAt === undefined);
  if (failed.length > 0) throw new Error(`warm-up: ${failed.length} of 3 users did not confirm: ${failed.map((v) => v.failure).join('; ')}`);
  const burst = fixture.userIds.slice(3, 3 + Math.min(q.rate, fixture.userIds.length - 3));
  await joinInOpenLoop(pool, { performanceId: fixture.warmUpPerformanceId, userIds: burst, tokens, rate: Math.max(1, Math.round(q.rate / 2)), drainMs: 30_000 });
  await sleep(2000);
}

/** Phase 1: every storm user joins once at the storm rate. */
async function joinStorm(run: QueueRun): Promise<StormFigures> {
  const { fixture, pool, tokens, q } = run;
  const userIds = fixture.userIds.slice(0, q.users);
  log(`queue: join storm, ${userIds.length} users at ${q.rate}/s on performance ${fixture.stormPerformanceId}`);
  const { result, usage, diagnostics, wallS } = await metered(run, () =>
    joinInOpenLoop(pool, { performanceId: fixture.stormPerformanceId, userIds, tokens, rate: q.rate, drainMs: STORM_DRAIN_MS, progress: log }),
  );
  const answers = analyzeJoins(result.samples, result.unanswered);
  const table = tableChecks(await loadTokenTimeline(run.db, fixture.stormPerformanceId));
  log(`  => ${answers.answered}/${answers.sent} answered; HTTP p50 ${answers.http.p50} p90 ${answers.http.p90} p99 ${answers.http.p99} max ${answers.http.max} ms; most ACTIVE ${table.maxActive}`);
  return { ...answers, performanceId: fixture.stormPerformanceId, users: userIds.length, rate: q.rate, table, cpu: phaseCpu(usage, wallS, answers.sent, 'join'), diagnostics };
}

/** Phase 2: the drain users join, wait, hold and pay. */
async function drain(run: QueueRun): Promise<DrainFigures> {
  const { fixture, pool, tokens, q } = run;
  const userIds = fixture.userIds.slice(0, q.drainUsers);
  const deadline = Date.now() + Math.max(120_000, q.drainUsers * 300);
  log(`queue: drain, ${userIds.length} users join performance ${fixture.drainPerformanceId}, wait, hold one seat and pay`);
  const { result: clients, usage, diagnostics, wallS } = await metered(run, () =>
    runDrain(pool, { performanceId: fixture.drainPerformanceId, userIds, seatIds: fixture.drainSeatIds, tokens, rate: q.rate, deadline, progress: log }),
  );
  const confirmed = clients.filter((c) => c.confirmedAt !== undefined).length;
  const figures = drainFigures({
    performanceId: fixture.drainPerformanceId,
    clients,
    tokens: await loadTokenTimeline(run.db, fixture.drainPerformanceId),
    confirmations: await loadConfirmations(run.db, fixture.drainPerformanceId),
    activeLimit: q.activeLimit,
    cpu: phaseCpu(usage, wallS, confirmed, 'confirmed reservation'),
    diagnostics,
  });
  log(
    `  => ${figures.confirmed}/${figures.users} confirmed; ${figures.admission.admittedPerS} admitted/s, ${figures.confirmedPerS} confirmed/s; ` +
      `admission latency p50 ${figures.admissionLatency.p50} p99 ${figures.admissionLatency.p99} ms; most ACTIVE ${figures.table.maxActive}`,
  );
  return figures;
}

/** Seeds, mints, starts the stack and runs both phases into `results`; the stack is stopped before it returns. */
async function runPhases(ctx: StackContext, q: QueueBenchOptions, config: AppConfig, results: QueueBenchResults): Promise<void> {
  const fixture = await prepareQueueDatabase(ctx.benchDbUrl, Math.max(q.users, q.drainUsers), q.drainUsers);
  const t0 = performance.now();
  const tokens = await mintUserTokens(fixture.userIds, config.auth);
  log(`queue: ${fixture.userIds.length} users seeded, their tokens minted in ${Math.round(performance.now() - t0)} ms`);
  const parts: StackPart[] = [];
  let pool: Pool | undefined;
  try {
    const stack = await startSagaStack(ctx, parts);
    pool = new Pool(stack.apiUrl, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
    const run: QueueRun = { q, db: ctx.db, pool, fixture, tokens, groups: stack.groups };
    await warmUp(run);
    results.storm = await joinStorm(run);
    await sleep(2000);
    results.drain = await drain(run);
  } finally {
    await pool?.destroy();
    for (const part of parts.reverse()) await part.stop();
  }
}

/**
 * The waiting-queue benchmark with `options` (`options.queue`: its own settings), the
 * config's Temporal CLI and auth settings, on the bench database `benchDbUrl`. Resolves
 * with the process's exit code: 0 when both phases ran (whatever the targets say), 1 when
 * the run failed (the reason and the logs' folder on stderr).
 */
export async function runQueueBench(options: BenchOptions, q: QueueBenchOptions, config: AppConfig, benchDbUrl: string): Promise<number> {
  if (options.combined) throw new Error('--queue runs the API and the worker apart; drop --combined');
  const startedAt = new Date();
  const runDir = path.join(options.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}-queue-${options.label}`);
  const logDir = path.join(runDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'sagas-bench-queue-'));
  const db = new BenchDatabase(benchDbUrl);
  const queueOptions: BenchOptions = { ...options, extraEnv: { QUEUE_ACTIVE_LIMIT: String(q.activeLimit), ...options.extraEnv } };
  const ctx: StackContext = { options: queueOptions, cliPath: config.temporal.cliPath, benchDbUrl, db, logDir, tmpDir, log };
  const base = newResults(options, startedAt, db.name);
  const results: QueueBenchResults = {
    kind: 'queue', startedAt: base.startedAt, finishedAt: '', label: options.label, machine: base.machine, loadAvgBefore: base.loadAvgBefore,
    settings: { ...q, activeSeconds: config.queue.activeMs / 1000, env: queueOptions.extraEnv, temporalFlags: options.temporalFlags, database: db.name, procAvailable: base.settings.procAvailable },
    storm: null, drain: null, targets: [],
  };
  let failed = false;
  try {
    const cli = await findTemporalCli({ cliPath: config.temporal.cliPath, progress: log });
    results.machine.temporalCli = execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim().replace(/^temporal version /, '');
    results.machine.postgres = `PostgreSQL ${(await db.adminQuery<{ server_version: string }>('show server_version'))[0]!.server_version}`;
    log(`bench --queue: database ${db.name}, cap ${q.activeLimit}, results in ${runDir}; load average ${results.loadAvgBefore.join(' ')}`);
    await runPhases(ctx, q, config, results);
  } catch (err) {
    failed = true;
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\nlogs: ${logDir}\n`);
  } finally {
    await db.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
  results.finishedAt = new Date().toISOString();
  queueTargets(results, q.activeLimit);
  if (results.storm || results.drain) {
    const files = await writeQueueReport(runDir, options.out, results);
    log('');
    log(queueMarkdown(results));
    log(`written: ${files.json}, ${files.md} (and ${path.join(options.out, 'latest-queue.*')})`);
  }
  return failed ? 1 : 0;
}

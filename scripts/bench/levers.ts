/**
 * The tuning levers of docs/benchmark.md, measured one at a time: runs `npm run bench`
 * (saga only) once per variant, each differing from the reference in one setting, and
 * writes bench-results/levers-<time>.md (and .json) with the before/after of each.
 *
 *   node scripts/bench/levers.ts [--only name,name] [--duration 10] [--levels 1,8,32] [--repeat 2]
 *
 * With --repeat N the variants run round-robin N times and the table shows the median of
 * each figure (the machine's other load changes between runs).
 * Every variant starts a fresh stack (its own Temporal dev server and database reseed).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../temporal-cli.ts';
import { DEV_SERVER_TUNING_FLAGS } from '../temporal-dev-server.ts';
import type { BenchResults, MeasuredLevel } from './report.ts';

/** One setting changed against the reference run. */
interface Variant {
  name: string;
  /** What it changes, for the table. */
  change: string;
  env?: Record<string, string>;
  /** Dev server flags replacing {@link DEV_SERVER_TUNING_FLAGS}. */
  temporalFlags?: string[];
  noPrebuiltBundle?: boolean;
  /** Bench-only API+worker process, see combined-server.ts. */
  combined?: 'update' | 'eager';
}

const EAGER_ACTIVITIES = 'system.enableActivityEagerExecution=true';
const base = [...DEV_SERVER_TUNING_FLAGS];

/** `flags` without each flag `name` (and its value) whose value `drop` selects. */
function without(flags: string[], name: string, drop: (value: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === name && drop(flags[i + 1] ?? '')) i++;
    else out.push(flags[i]!);
  }
  return out;
}
const withoutEager = without(base, '--dynamic-config-value', (v) => v === EAGER_ACTIVITIES);
const ONE_PARTITION = ['matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'];
const POLL_RPS = 'history.transferProcessorMaxPollRPS=1000';
const withoutPollRps = without(base, '--dynamic-config-value', (v) => v === POLL_RPS);
const partitions = (on: boolean) => [
  ...without(base, '--dynamic-config-value', (v) => ONE_PARTITION.includes(v)),
  ...(on ? ONE_PARTITION.flatMap((v) => ['--dynamic-config-value', v]) : []),
];
const sqlite = (pragmas: string[]) => [...without(base, '--sqlite-pragma', () => true), ...pragmas.flatMap((p) => ['--sqlite-pragma', p])];

export const VARIANTS: Variant[] = [
  { name: 'reference', change: 'the defaults' },
  {
    name: 'before-tuning',
    change: 'steps as normal activities and the dev server with WAL only (the settings before the benchmark; POST /orders without its progress Query cannot be turned back)',
    env: { ORDER_STEP_ACTIVITIES: 'remote' },
    temporalFlags: ['--sqlite-pragma', 'journal_mode=wal'],
  },
  { name: 'remote-steps', change: 'database steps as normal activities (ORDER_STEP_ACTIVITIES=remote)', env: { ORDER_STEP_ACTIVITIES: 'remote' } },
  { name: 'no-eager-activities', change: 'no eager activity dispatch', temporalFlags: withoutEager },
  { name: 'transfer-poll-20', change: 'history transfer queue read at most 20 times/s (the server default)', temporalFlags: withoutPollRps },
  { name: 'four-partitions', change: 'task queues with 4 partitions (the server default)', temporalFlags: partitions(false) },
  { name: 'sqlite-sync-full', change: 'SQLite synchronous=FULL (WAL)', temporalFlags: sqlite(['journal_mode=wal', 'synchronous=full']) },
  { name: 'sqlite-sync-off', change: 'SQLite synchronous=OFF (WAL)', temporalFlags: sqlite(['journal_mode=wal', 'synchronous=off']) },
  { name: 'sqlite-rollback-journal', change: 'SQLite without WAL (journal_mode=delete)', temporalFlags: sqlite(['journal_mode=delete']) },
  { name: 'wft-slots-10', change: 'WORKER_MAX_WORKFLOW_TASKS=10', env: { WORKER_MAX_WORKFLOW_TASKS: '10' } },
  { name: 'wft-slots-200', change: 'WORKER_MAX_WORKFLOW_TASKS=200', env: { WORKER_MAX_WORKFLOW_TASKS: '200' } },
  { name: 'activity-slots-20', change: 'WORKER_MAX_ACTIVITIES=20, WORKER_MAX_LOCAL_ACTIVITIES=20', env: { WORKER_MAX_ACTIVITIES: '20', WORKER_MAX_LOCAL_ACTIVITIES: '20' } },
  { name: 'pollers-2', change: 'WORKER_WORKFLOW_TASK_POLLERS=2, WORKER_ACTIVITY_TASK_POLLERS=2', env: { WORKER_WORKFLOW_TASK_POLLERS: '2', WORKER_ACTIVITY_TASK_POLLERS: '2' } },
  { name: 'pollers-20', change: 'WORKER_WORKFLOW_TASK_POLLERS=20, WORKER_ACTIVITY_TASK_POLLERS=20', env: { WORKER_WORKFLOW_TASK_POLLERS: '20', WORKER_ACTIVITY_TASK_POLLERS: '20' } },
  { name: 'cache-20', change: 'WORKER_MAX_CACHED_WORKFLOWS=20', env: { WORKER_MAX_CACHED_WORKFLOWS: '20' } },
  { name: 'db-pool-4', change: 'DATABASE_POOL_MAX=4 (API and worker)', env: { DATABASE_POOL_MAX: '4' } },
  { name: 'db-pool-30', change: 'DATABASE_POOL_MAX=30 (API and worker)', env: { DATABASE_POOL_MAX: '30' } },
  { name: 'no-prebuilt-bundle', change: 'worker bundles workflows/ at start-up', noPrebuiltBundle: true },
  { name: 'semi-space-64', change: 'NODE_OPTIONS=--max-semi-space-size=64 (API, worker: larger young generation)', env: { NODE_OPTIONS: '--max-semi-space-size=64' } },
  { name: 'one-process-update', change: 'API and worker in one process, update-with-start (bench-only route, no progress Query)', combined: 'update' },
  { name: 'one-process-eager', change: 'API and worker in one process, eager workflow start, then its result (bench-only route)', combined: 'eager' },
];

/** The numbers of a run that the lever table compares. */
export interface LeverRow {
  name: string;
  change: string;
  bestPerS: number;
  p50At1: number;
  p50At8: number;
  p99At8: number;
  openRate: number | null;
  openP50: number | null;
  openP99: number | null;
  cpuMsPerSaga: number | null;
  cpu: Record<string, number | null>;
  workerRssMb: number | null;
  startupMs: number | null;
  errors: number;
  loadAvg: number;
}

function rowOf(v: Variant, r: BenchResults): LeverRow {
  const closed = r.saga.filter((l) => l.mode === 'closed');
  const at = (c: number) => closed.find((l) => l.concurrency === c);
  const best = closed.reduce<MeasuredLevel | undefined>((b, l) => (!b || l.throughput > b.throughput ? l : b), undefined);
  const open = r.saga.filter((l) => l.mode === 'open').sort((a, b) => (a.targetRate ?? 0) - (b.targetRate ?? 0))[0];
  const groups = r.settings.combined ? ['api+worker', 'temporal', 'postgres'] : ['api', 'worker', 'temporal', 'postgres'];
  const cpu = Object.fromEntries(groups.map((g) => [g, best?.cpuMsPerOrder[g] ?? null]));
  if (r.settings.combined) cpu.worker = cpu['api+worker'] ?? null;
  const total = groups.every((g) => cpu[g] !== null) ? Math.round(groups.reduce((s, g) => s + cpu[g]!, 0) * 10) / 10 : null;
  return {
    name: v.name,
    change: v.change,
    bestPerS: best?.throughput ?? 0,
    p50At1: at(1)?.saga.p50 ?? NaN,
    p50At8: at(8)?.saga.p50 ?? NaN,
    p99At8: at(8)?.saga.p99 ?? NaN,
    openRate: open?.targetRate ?? null,
    openP50: open?.saga.p50 ?? null,
    openP99: open?.saga.p99 ?? null,
    cpuMsPerSaga: total,
    cpu,
    workerRssMb: Math.max(0, ...r.saga.map((l) => (l.usage.worker ?? l.usage['api+worker'])?.peakRssMb ?? 0)) || null,
    startupMs: r.startup.firstOrdersConfirmedMs ?? null,
    errors: r.saga.reduce((s, l) => s + l.errors, 0),
    loadAvg: Math.max(...r.saga.map((l) => l.loadAvg1)),
  };
}

/** The Markdown lever table. */
export function leverTable(rows: LeverRow[]): string {
  const lines = [
    '| lever | change | best sagas/s | p50 @1 | p50 / p99 @8 | open loop: rate, p50 / p99 | CPU ms/saga (api+worker+temporal+pg) | worker / temporal CPU | worker RSS MB | first orders after spawn, ms | errors | max load avg |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.change} | ${r.bestPerS} | ${r.p50At1} | ${r.p50At8} / ${r.p99At8} | ${r.openRate ?? '-'}/s, ${r.openP50 ?? '-'} / ${r.openP99 ?? '-'} | ${r.cpuMsPerSaga ?? 'n/a'} | ${r.cpu.worker ?? 'n/a'} / ${r.cpu.temporal ?? 'n/a'} | ${r.workerRssMb ?? 'n/a'} | ${r.startupMs ?? 'n/a'} | ${r.errors} | ${r.loadAvg} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Per numeric field, the median of `rows` (one variant's repeated runs). */
function medianRow(rows: LeverRow[]): LeverRow {
  const med = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null && !Number.isNaN(x)).sort((a, b) => a - b);
    if (v.length === 0) return null;
    const mid = Math.floor(v.length / 2);
    return v.length % 2 ? v[mid]! : Math.round(((v[mid - 1]! + v[mid]!) / 2) * 10) / 10;
  };
  const first = rows[0]!;
  return {
    ...first,
    bestPerS: med(rows.map((r) => r.bestPerS))!,
    p50At1: med(rows.map((r) => r.p50At1)) ?? NaN,
    p50At8: med(rows.map((r) => r.p50At8)) ?? NaN,
    p99At8: med(rows.map((r) => r.p99At8)) ?? NaN,
    openRate: med(rows.map((r) => r.openRate)),
    openP50: med(rows.map((r) => r.openP50)),
    openP99: med(rows.map((r) => r.openP99)),
    cpuMsPerSaga: med(rows.map((r) => r.cpuMsPerSaga)),
    cpu: Object.fromEntries(Object.keys(first.cpu).map((k) => [k, med(rows.map((r) => r.cpu[k] ?? null))])),
    workerRssMb: med(rows.map((r) => r.workerRssMb)),
    startupMs: med(rows.map((r) => r.startupMs)),
    errors: rows.reduce((n, r) => n + r.errors, 0),
    loadAvg: Math.max(...rows.map((r) => r.loadAvg)),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      duration: { type: 'string', default: '10' },
      levels: { type: 'string', default: '1,8,32' },
      rates: { type: 'string', default: 'auto' },
      repeat: { type: 'string', default: '1' },
    },
  });
  const only = values.only?.split(',');
  const out = path.join(REPO_ROOT, 'bench-results');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const selected = VARIANTS.filter((x) => !only || only.includes(x.name));
  const runs = new Map<string, LeverRow[]>();
  // Round-robin over the variants, so that a change in the machine's other load hits all alike.
  for (let round = 0; round < Number(values.repeat); round++) {
    for (const v of selected) {
      process.stdout.write(`lever ${v.name} (round ${round + 1}): ${v.change}\n`);
      const args = [
        path.join(REPO_ROOT, 'scripts', 'bench', 'main.ts'),
        '--skip-baseline',
        '--label', `lever-${v.name}`,
        '--levels', values.levels,
        '--rates', values.rates,
        '--duration', values.duration,
        ...Object.entries(v.env ?? {}).flatMap(([k, val]) => ['--env', `${k}=${val}`]),
        ...(v.temporalFlags ? [`--temporal-flag=${v.temporalFlags.join(' ')}`] : []),
        ...(v.noPrebuiltBundle ? ['--no-prebuilt-bundle'] : []),
        ...(v.combined ? ['--combined', v.combined] : []),
      ];
      const run = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      const written = /written: (\S+results\.json),/.exec(run.stdout ?? '');
      if (run.status !== 0 || !written) {
        process.stdout.write(`  failed (exit ${run.status}); skipped\n`);
        continue;
      }
      const row = rowOf(v, JSON.parse(readFileSync(written[1]!, 'utf8')) as BenchResults);
      runs.set(v.name, [...(runs.get(v.name) ?? []), row]);
      process.stdout.write(`  best ${row.bestPerS}/s, p50@1 ${row.p50At1} ms, p50@8 ${row.p50At8} ms, CPU ${row.cpuMsPerSaga} ms/saga\n`);
      const rows = selected.filter((x) => runs.has(x.name)).map((x) => medianRow(runs.get(x.name)!));
      writeFileSync(path.join(out, `levers-${stamp}.json`), `${JSON.stringify({ runs: Object.fromEntries(runs), medians: rows }, null, 2)}\n`);
      writeFileSync(path.join(out, `levers-${stamp}.md`), leverTable(rows));
    }
  }
  const rows = selected.filter((x) => runs.has(x.name)).map((x) => medianRow(runs.get(x.name)!));
  process.stdout.write(`\n${leverTable(rows)}`);
}

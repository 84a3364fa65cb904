/**
 * The steady-state run of `npm run bench -- --steady 600 --steady-rate 20`: one open
 * loop at a fixed arrival rate for a long time, cut into consecutive windows (60 s by
 * default), so drift shows: does throughput, latency or the Temporal server's CPU per
 * order change as its SQLite file and the outbox grow? Each window is a measured level
 * of its own (throughput, HTTP and saga latency, CPU ms per order by process), plus the
 * size of the dev server's SQLite files and the outbox backlog when it ends.
 *
 * Writes `steady.json` and `steady.md` into the run's folder and prints the table.
 */
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchDatabase } from './bench-db.ts';
import { runLevels, type LevelSettings, type SystemUnderTest } from './measure.ts';
import type { MeasuredLevel } from './report.ts';

/** The settings of a steady-state run. */
export interface SteadyOptions {
  /** Total length of the open loop, ms. */
  totalMs: number;
  /** Length of each measured window, ms. */
  windowMs: number;
  /** Arrival rate, orders/s. */
  rate: number;
}

/** One window of the steady-state run. Latencies in ms, sizes in MB. */
export interface SteadyWindow {
  /** Minutes since the open loop started, at the window's end. */
  endMinute: number;
  throughput: number;
  httpP50: number;
  httpP99: number;
  sagaP50: number;
  sagaP99: number;
  errors: number;
  cpuMsPerOrder: Record<string, number | null>;
  temporalRssMb: number | null;
  /** The dev server's SQLite database with its WAL. */
  sqliteMb: number;
  /** Outbox rows not yet DELIVERED when the window ended. */
  outboxBacklog: number;
  /** 1-minute load average when the window ended (the machine may be shared). */
  loadAvg1: number;
}

/** Size of a file in MB (0 when absent). */
function sizeMb(file: string): number {
  try {
    return statSync(file).size / 1e6;
  } catch {
    return 0;
  }
}

/** The SQLite database of the dev server, with its write-ahead log and shared memory. */
function sqliteSizeMb(dbFile: string): number {
  return Math.round((sizeMb(dbFile) + sizeMb(`${dbFile}-wal`) + sizeMb(`${dbFile}-shm`)) * 10) / 10;
}

async function outboxBacklog(db: BenchDatabase): Promise<number> {
  const rows = await db.query<{ n: string }>("select count(*) as n from data_platform_deliveries where status = 'PENDING'");
  return Number(rows[0]?.n ?? 0);
}

function windowOf(level: MeasuredLevel, endMinute: number, sqliteMb: number, backlog: number): SteadyWindow {
  return {
    endMinute,
    throughput: level.throughput,
    httpP50: level.http.p50,
    httpP99: level.http.p99,
    sagaP50: level.saga.p50,
    sagaP99: level.saga.p99,
    errors: level.errors,
    cpuMsPerOrder: level.cpuMsPerOrder,
    temporalRssMb: level.usage.temporal?.peakRssMb ?? null,
    sqliteMb,
    outboxBacklog: backlog,
    loadAvg1: level.loadAvg1,
  };
}

/**
 * Drives `target` in an open loop at `options.rate` for `options.totalMs`, one measured
 * window after another (a warm-up before the first only), and returns the windows.
 * `temporalDbFile` is the dev server's SQLite file (its size is read after each window).
 */
export async function runSteady(
  target: SystemUnderTest,
  options: SteadyOptions,
  settings: LevelSettings,
  db: BenchDatabase,
  temporalDbFile: string,
): Promise<SteadyWindow[]> {
  const windows: SteadyWindow[] = [];
  const count = Math.max(1, Math.round(options.totalMs / options.windowMs));
  let elapsedMs = 0;
  for (let i = 0; i < count; i++) {
    const warmupMs = i === 0 ? settings.warmupMs : 0;
    settings.log(`steady: window ${i + 1} of ${count}`);
    const [level] = await runLevels(target, [], [options.rate], { ...settings, warmupMs, durationMs: options.windowMs, pauseMs: 0 });
    elapsedMs += warmupMs + options.windowMs;
    windows.push(windowOf(level!, Math.round(elapsedMs / 6000) / 10, sqliteSizeMb(temporalDbFile), await outboxBacklog(db)));
  }
  return windows;
}

/** The Markdown table of a steady-state run, one row per window. */
export function steadyTable(options: SteadyOptions, windows: SteadyWindow[]): string {
  const groups = [...new Set(windows.flatMap((w) => Object.keys(w.cpuMsPerOrder)))].filter((g) => g !== 'loadgen' && g !== 'data-platform');
  const head = `| minute | orders/s | HTTP p50 / p99 ms | saga p50 / p99 ms | errors | ${groups.map((g) => `${g} CPU ms/order`).join(' | ')} | Temporal RSS MB | SQLite MB | outbox backlog | load avg |`;
  const rule = `|${' --- |'.repeat(9 + groups.length)}`;
  const rows = windows.map(
    (w) =>
      `| ${w.endMinute} | ${w.throughput} | ${w.httpP50} / ${w.httpP99} | ${w.sagaP50} / ${w.sagaP99} | ${w.errors} | ${groups.map((g) => w.cpuMsPerOrder[g] ?? 'n/a').join(' | ')} | ${w.temporalRssMb ?? 'n/a'} | ${w.sqliteMb} | ${w.outboxBacklog} | ${w.loadAvg1} |`,
  );
  return [`Steady state: open loop at ${options.rate} orders/s for ${options.totalMs / 60000} min, windows of ${options.windowMs / 1000} s.`, '', head, rule, ...rows, ''].join('\n');
}

/** Writes `steady.json` and `steady.md` into `runDir`; returns the Markdown. */
export async function writeSteady(runDir: string, options: SteadyOptions, windows: SteadyWindow[]): Promise<string> {
  const md = steadyTable(options, windows);
  await writeFile(path.join(runDir, 'steady.json'), `${JSON.stringify({ options, windows }, null, 2)}\n`);
  await writeFile(path.join(runDir, 'steady.md'), md);
  return md;
}

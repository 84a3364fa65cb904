/**
 * The results of a run as they are assembled: the skeleton written before the first level
 * (settings and machine), and at the end the saga / baseline ratios and the targets
 * checked against the measured levels.
 */
import os from 'node:os';
import type { BenchOptions } from './options.ts';
import { PROC_AVAILABLE } from './proc.ts';
import type { BenchResults, MachineInfo, MeasuredLevel } from './report.ts';

/**
 * Results of a run started at `startedAt` on the bench database `database`, with no level
 * yet. `machine.postgres` and `machine.temporalCli` are 'unknown' until the caller
 * fills them in.
 */
export function newResults(options: BenchOptions, startedAt: Date, database: string): BenchResults {
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    quick: options.quick,
    label: options.label,
    machine: machineInfo(),
    loadAvgBefore: os.loadavg().map((v) => Math.round(v * 100) / 100),
    settings: {
      levels: options.levels,
      rates: options.rateSpec,
      durationS: options.durationMs / 1000,
      warmupS: options.warmupMs / 1000,
      failShare: options.failShare,
      couponShare: options.couponShare,
      env: options.extraEnv,
      temporal: options.temporal,
      temporalFlags: options.temporalFlags,
      prebuiltBundle: options.prebuiltBundle,
      combined: options.combined ?? null,
      database,
      procAvailable: PROC_AVAILABLE,
    },
    saga: [],
    baseline: [],
    startup: {},
    breakdowns: [],
    ratios: { bestThroughput: null, p50AtConcurrency: {}, throughputAtConcurrency: {} },
    targets: [],
  };
}

function machineInfo(): MachineInfo {
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

/**
 * Fills `results.ratios` (saga / baseline over the closed-loop levels, when both systems
 * ran) and appends the targets to `results.targets` (nothing when the saga did not run).
 */
export function computeRatios(results: BenchResults): void {
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

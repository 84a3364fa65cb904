/**
 * Latency statistics of a benchmark level: exact percentiles over the recorded samples
 * (a level records at most a few hundred thousand, so sorting them is cheap).
 */

/** Percentiles and extremes of a sample, in ms (rounded to 0.1 ms); zeros when empty. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile `q` (0..1) of sorted `values`. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Summarizes `values` (ms). */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    mean: round(sorted.length ? sum / sorted.length : 0),
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

/** The percentiles the waiting-queue benchmark reports, in ms (rounded to 0.1 ms); zeros when empty. */
export interface QueueLatency {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summarizes `values` (ms) as p50 / p90 / p99 / max. */
export function queueLatency(values: readonly number[]): QueueLatency {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 0.5)),
    p90: round(percentile(sorted, 0.9)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

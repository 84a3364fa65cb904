/**
 * The command line of `npm run bench` (scripts/bench/main.ts), parsed into one typed
 * settings object with the defaults of a full run or of a `--quick` smoke run.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_SERVER_TUNING_FLAGS } from '../temporal-dev-server.ts';
import { REPO_ROOT } from '../temporal-cli.ts';
import type { SteadyOptions } from './steady.ts';

/** The settings of one benchmark run. Times in ms. */
export interface BenchOptions {
  /** A smoke run: fewer levels, shorter windows, shorter pauses. */
  quick: boolean;
  /** Closed-loop concurrency levels (clients). */
  levels: number[];
  /** Open-loop rates as given: orders/s, or `auto` (half and 80% of the best saga throughput). */
  rateSpec: string[];
  /** Measured window of each level. */
  durationMs: number;
  /** Warm-up before each level's window. */
  warmupMs: number;
  /** Share of orders that fail on purpose (0..1). */
  failShare: number;
  /** Share of orders that use a coupon (0..1; the saga's coupon step). */
  couponShare: number;
  /** Extra environment of the worker and API processes. */
  extraEnv: Record<string, string>;
  /**
   * Which Temporal server the saga runs on: `dev`, a dev server of its own (SQLite file),
   * or `cluster`, the real server on PostgreSQL (scripts/temporal-cluster.ts) on
   * databases of its own next to the bench database.
   */
  temporal: TemporalKind;
  /** Tuning flags of the Temporal dev server, one argv entry each. */
  temporalFlags: string[];
  /** Whether the worker gets a workflow bundle built beforehand. */
  prebuiltBundle: boolean;
  skipSaga: boolean;
  skipBaseline: boolean;
  /** `update` or `eager` to run API and worker in one process (checked when the saga starts). */
  combined: string | undefined;
  /** Name suffix of the run's folder. */
  label: string;
  /** Folder of all runs (each in `<out>/<run>/`, the latest copied to `<out>/latest.*`). */
  out: string;
  /** The waiting-queue benchmark (`--queue`) instead of the order checkout one; undefined without it. */
  queue: QueueBenchOptions | undefined;
  /** A steady-state run (`--steady`, scripts/bench/steady.ts) instead of the levels; undefined without it. */
  steady: SteadyOptions | undefined;
}

/** The Temporal servers the saga can be measured on (`--temporal`). */
export const TEMPORAL_KINDS = ['dev', 'cluster'] as const;
export type TemporalKind = (typeof TEMPORAL_KINDS)[number];

/** The settings of a waiting-queue run (`--queue`, scripts/bench/queue.ts). */
export interface QueueBenchOptions {
  /** Most ACTIVE tokens per performance (the API's and worker's QUEUE_ACTIVE_LIMIT). */
  activeLimit: number;
  /** Users of the join storm, each joining once. */
  users: number;
  /** Arrival rate of the storm's joins (open loop), joins/s; also of the drain's joins. */
  rate: number;
  /** Users of the drain phase (each joins, waits, holds one seat and pays). */
  drainUsers: number;
}

/**
 * Parses the bench's command line. Options (defaults of a full run; of `--quick` in
 * brackets):
 * - `--quick`: a smoke run of a few seconds per system;
 * - `--levels 1,8,32,128` [1,8]: closed-loop clients;
 * - `--rates 145,auto` [15]: open-loop orders/s; `auto` adds half and 80% of the best
 *   saga throughput;
 * - `--duration 20` [3] and `--warmup 3` [1]: seconds per level;
 * - `--fail-share 0.1`: share of orders failing on purpose;
 * - `--coupon-share 0.2`: share of orders using a coupon (of the bench's open campaigns);
 * - `--env KEY=VALUE` (repeatable): settings of the worker and API processes;
 * - `--temporal dev|cluster` [dev]: the saga on a dev server of its own (SQLite), or on
 *   the real Temporal server on PostgreSQL (databases `<bench db>_temporal` and
 *   `<bench db>_temporal_visibility`, dropped first; free ports from 7395 up);
 * - `--temporal-flag '<flags>'` (repeatable, split at spaces): replaces the dev server's
 *   tuning flags;
 * - `--no-prebuilt-bundle`, `--skip-saga`, `--skip-baseline`;
 * - `--combined update|eager`: API and worker in one process (bench-only);
 * - `--label default`: name suffix of the run's folder;
 * - `--out bench-results`: folder of the runs;
 * - `--steady 600`: a steady-state run instead of the levels (steady.ts): an open loop at
 *   `--steady-rate 20` orders/s for that many seconds, measured in windows of
 *   `--steady-window 60` seconds (the saga only; implies --skip-baseline);
 * - `--queue`: the waiting-queue benchmark instead (queue.ts), with `--queue-limit 50`
 *   (ACTIVE tokens per performance), `--queue-users 10000` and `--queue-rate 1000` (the
 *   join storm: users, joins/s), `--queue-drain-users 1000` (the drain phase).
 *
 * Throws on an unknown option (node:util parseArgs), on an `--env` without `=`, on a
 * `--temporal` other than dev or cluster, and on a queue setting that is not a positive
 * integer.
 */
export function parseBenchOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      levels: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'fail-share': { type: 'string', default: '0.1' },
      'coupon-share': { type: 'string', default: '0.2' },
      env: { type: 'string', multiple: true, default: [] },
      temporal: { type: 'string', default: 'dev' },
      'temporal-flag': { type: 'string', multiple: true },
      'no-prebuilt-bundle': { type: 'boolean', default: false },
      'skip-baseline': { type: 'boolean', default: false },
      'skip-saga': { type: 'boolean', default: false },
      combined: { type: 'string' },
      label: { type: 'string', default: 'default' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'bench-results') },
      queue: { type: 'boolean', default: false },
      'queue-limit': { type: 'string', default: '50' },
      'queue-users': { type: 'string', default: '10000' },
      'queue-rate': { type: 'string', default: '1000' },
      'queue-drain-users': { type: 'string', default: '1000' },
      steady: { type: 'string' },
      'steady-rate': { type: 'string', default: '20' },
      'steady-window': { type: 'string', default: '60' },
    },
  });
  const quick = args.quick;
  return {
    quick,
    levels: (args.levels ?? (quick ? '1,8' : '1,8,32,128')).split(',').map(Number),
    rateSpec: (args.rates ?? (quick ? '15' : '145,auto')).split(','),
    durationMs: Number(args.duration ?? (quick ? 3 : 20)) * 1000,
    warmupMs: Number(args.warmup ?? (quick ? 1 : 3)) * 1000,
    failShare: Number(args['fail-share']),
    couponShare: shareOf('--coupon-share', args['coupon-share']),
    extraEnv: parseEnv(args.env),
    temporal: temporalKind(args.temporal),
    temporalFlags: args['temporal-flag'] ? args['temporal-flag'].flatMap((f) => f.split(' ').filter(Boolean)) : [...DEV_SERVER_TUNING_FLAGS],
    prebuiltBundle: !args['no-prebuilt-bundle'],
    skipSaga: args['skip-saga'],
    skipBaseline: args['skip-baseline'],
    combined: args.combined,
    label: args.label,
    out: args.out,
    queue: args.queue
      ? {
          activeLimit: positiveInt('--queue-limit', args['queue-limit']),
          users: positiveInt('--queue-users', args['queue-users']),
          rate: positiveInt('--queue-rate', args['queue-rate']),
          drainUsers: positiveInt('--queue-drain-users', args['queue-drain-users']),
        }
      : undefined,
    steady: args.steady
      ? {
          totalMs: positiveInt('--steady', args.steady) * 1000,
          rate: positiveInt('--steady-rate', args['steady-rate']),
          windowMs: positiveInt('--steady-window', args['steady-window']) * 1000,
        }
      : undefined,
  };
}

/** A {@link TemporalKind} given as text; throws on anything else. */
function temporalKind(text: string): TemporalKind {
  const kind = TEMPORAL_KINDS.find((k) => k === text);
  if (!kind) throw new Error(`--temporal expects ${TEMPORAL_KINDS.join(' or ')}, got ${text}`);
  return kind;
}

/** A positive integer given as text; throws on anything else. */
function positiveInt(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${option} expects a positive integer, got ${text}`);
  return n;
}

/** A share 0..1 given as text; throws on anything else. */
function shareOf(option: string, text: string): number {
  const share = Number(text);
  if (!Number.isFinite(share) || share < 0 || share > 1) throw new Error(`${option} expects a share between 0 and 1, got ${text}`);
  return share;
}

/** `KEY=VALUE` pairs as an object; throws on a pair without a key or `=`. */
function parseEnv(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--env expects KEY=VALUE, got ${kv}`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
}

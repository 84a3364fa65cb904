/**
 * The benchmark's pure parts (scripts/bench/): percentiles, the order mix, the worker
 * tuning knobs of the config, and the report writers. The benchmark itself is not run
 * here: even `npm run bench -- --quick` takes about 40 s (a Temporal dev server, the
 * worker and the API start, then two systems are driven for a few seconds each).
 */
import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../config/index.ts';
import { workerTuning } from '../../worker/worker.ts';
import { CouponPool, orderMix } from '../../scripts/bench/order-mix.ts';
import { parseBenchOptions } from '../../scripts/bench/options.ts';
import { chart, markdown, type BenchResults, type MeasuredLevel } from '../../scripts/bench/report.ts';
import { percentile, summarize } from '../../scripts/bench/stats.ts';

describe('latency statistics', () => {
  test('nearest-rank percentiles of a sample', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(summarize([3, 1, 2])).toEqual({ count: 3, mean: 2, p50: 2, p95: 3, p99: 3, max: 3 });
    expect(summarize([])).toMatchObject({ count: 0, p50: 0, max: 0 });
  });
});

describe('order mix', () => {
  const fixture = { richUserIds: [1, 2], poorUserIds: [9], stockedProductIds: [1, 2, 3], emptyProductIds: [7] };

  test('two distinct lines per order, the failing share split between points and stock', () => {
    const next = orderMix(fixture, 0.2, 42);
    const orders = Array.from({ length: 5000 }, next);
    for (const o of orders) {
      const body = JSON.parse(o.body) as { userId: number; items: { productId: number; quantity: number }[] };
      expect(body.items).toHaveLength(2);
      expect(body.items[0]!.productId).not.toBe(body.items[1]!.productId);
      if (o.expect === 'InsufficientPoints') expect(body.userId).toBe(9);
      if (o.expect === 'OutOfStock') expect(body.items.map((i) => i.productId)).toContain(7);
    }
    const share = (kind: string) => orders.filter((o) => o.expect === kind).length / orders.length;
    expect(share('InsufficientPoints')).toBeCloseTo(0.1, 1);
    expect(share('OutOfStock')).toBeCloseTo(0.1, 1);
  });

  test('a coupon share is placed by the owners of the pool\'s coupons, each coupon once, expected CONFIRMED', () => {
    const coupons = new CouponPool(Array.from({ length: 300 }, (_, i) => ({ couponId: 1_000 + i, userId: 1 + (i % 2) })));
    const next = orderMix({ ...fixture, coupons }, 0.1, 42, 0.2);
    const orders = Array.from({ length: 1000 }, next);
    const withCoupon = orders.filter((o) => o.coupon);
    expect(withCoupon.length / orders.length).toBeCloseTo(0.2, 1);
    const bodies = withCoupon.map((o) => JSON.parse(o.body) as { userId: number; couponId: number });
    expect(new Set(bodies.map((b) => b.couponId)).size).toBe(bodies.length);
    for (const [i, b] of bodies.entries()) {
      expect(b.userId).toBe(1 + ((b.couponId - 1_000) % 2));
      expect(withCoupon[i]!.expect).toBe('CONFIRMED');
    }
    expect(coupons.taken).toBe(bodies.length);
    // A second generator (the next level) goes on with the coupons left.
    const later = JSON.parse(Array.from({ length: 50 }, orderMix({ ...fixture, coupons }, 0, 1, 1))[0]!.body) as { couponId: number };
    expect(later.couponId).toBe(1_000 + bodies.length);
  });

  test('is the same sequence for the same seed', () => {
    const a = orderMix(fixture, 0.1, 7);
    const b = orderMix(fixture, 0.1, 7);
    expect(Array.from({ length: 20 }, a)).toEqual(Array.from({ length: 20 }, b));
  });
});

describe('worker tuning from the config', () => {
  test('leaves the SDK defaults for unset knobs and passes the set ones', () => {
    expect(workerTuning(loadConfig({}).worker)).toEqual({
      maxConcurrentActivityTaskExecutions: 100,
      maxConcurrentWorkflowTaskExecutions: 40,
      maxConcurrentLocalActivityExecutions: 100,
      shutdownGraceTime: 10_000,
    });
    const tuned = workerTuning(
      loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '500', WORKER_WORKFLOW_TASK_POLLERS: '4', WORKER_ACTIVITY_TASK_POLLERS: '' }).worker,
    );
    expect(tuned).toMatchObject({ maxCachedWorkflows: 500, workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 4 } });
    expect(tuned).not.toHaveProperty('activityTaskPollerBehavior');
  });
});

describe('report', () => {
  const level = (system: 'saga' | 'baseline', mode: 'closed' | 'open', concurrency: number, throughput: number, p50: number): MeasuredLevel => ({
    system,
    mode,
    concurrency,
    targetRate: mode === 'open' ? 50 : null,
    durationS: 10,
    sent: throughput * 10,
    throughput,
    confirmedPerS: throughput * 0.9,
    http: { count: 10, mean: p50, p50, p95: p50 * 2, p99: p50 * 3, max: p50 * 4 },
    saga: { count: 10, mean: p50, p50, p95: p50 * 2, p99: p50 * 3, max: p50 * 4 },
    sagaConfirmed: { count: 9, mean: p50, p50, p95: p50 * 2, p99: p50 * 3, max: p50 * 4 },
    compensatedShare: 0.1,
    pendingAnswers: 0,
    errors: 0,
    errorKinds: {},
    unexpectedOutcomes: 0,
    sampleOrders: [],
    loadAvg1: 0.5,
    usage: { worker: { cpuMs: 1000, peakRssMb: 200 } },
    cpuMsPerOrder: { worker: 1 },
  });
  const results: BenchResults = {
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:00Z',
    quick: true,
    label: 'test',
    machine: { cpuModel: 'cpu', cpus: 2, memoryGb: 4, os: 'Linux', node: '24', postgres: 'PostgreSQL 15', temporalCli: '1.5' },
    loadAvgBefore: [0.1, 0.2, 0.3],
    settings: { failShare: 0.1 },
    saga: [level('saga', 'closed', 1, 20, 40), level('saga', 'closed', 8, 80, 90), level('saga', 'open', 256, 50, 60)],
    baseline: [level('baseline', 'closed', 1, 200, 4), level('baseline', 'closed', 8, 900, 8)],
    startup: { firstOrdersConfirmedMs: 3000 },
    breakdowns: [],
    ratios: { bestThroughput: 0.089, p50AtConcurrency: { '1': 10 }, throughputAtConcurrency: { '1': 0.1 } },
    targets: [{ name: 'a target', value: '80/s', met: false }],
  };

  test('the Markdown has a row per level and the targets', () => {
    const md = markdown(results);
    expect(md).toContain('| 8 clients | 80.0 | 90 / 180 / 270 / 360 |');
    expect(md).toContain('| 50/s open |');
    expect(md).toContain('| a target | 80/s | no |');
  });

  test('on the real server the report says so and has a column for the Temporal databases\' backends', () => {
    const onCluster = (l: MeasuredLevel): MeasuredLevel => ({ ...l, cpuMsPerOrder: { worker: 1, temporal: 2, postgres: 3, 'postgres-temporal': 4 } });
    const md = markdown({ ...results, settings: { failShare: 0.1, temporal: 'cluster' }, saga: results.saga.map(onCluster) });
    expect(md).toContain('Temporal: the real server on PostgreSQL');
    expect(md).toContain('| CPU worker | CPU temporal | CPU postgres | CPU postgres-temporal |');
    expect(md).toContain('| 1.00 | 2.00 | 3.00 | 4.00 |');
    expect(markdown(results)).toContain('Temporal: a dev server of its own');
  });

  test('the chart is an SVG with a series per system and loop', () => {
    const svg = chart(results);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('saga, closed loop');
    expect(svg).toContain('baseline, closed loop');
    expect(svg).not.toContain('NaN');
  });
});

describe('bench options', () => {
  test('--temporal picks the dev server (default) or the real server on PostgreSQL, nothing else', () => {
    expect(parseBenchOptions([]).temporal).toBe('dev');
    expect(parseBenchOptions(['--temporal', 'cluster']).temporal).toBe('cluster');
    expect(() => parseBenchOptions(['--temporal', 'docker'])).toThrow(/--temporal expects dev or cluster/);
  });
});

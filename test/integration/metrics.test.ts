/**
 * Metrics, scraped over HTTP as Prometheus would: the API's (prom-client), served on a
 * listener of its own (`API_METRICS_ADDRESS`, here port 0) and never on the public API
 * port, and the worker's endpoint served by the Temporal Runtime. The Runtime is one per
 * process and the test process already has one (without metrics), so the worker runs as
 * a child process, the real entry point `node worker/main.ts`, with WORKER_METRICS_ADDRESS
 * on a free port; the API runs in-process and its sagas go to that worker.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { pino } from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { orderWorkflowId } from '../../common/ids.ts';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import type { Part } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { freePort, pollUntil } from '../helpers/waiting.ts';
import { scrape, samplesOf, sumOf, type Sample } from '../helpers/prometheus.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { expectNoContractViolations, recordContract, type ContractRecorder } from '../helpers/openapi-check.ts';

let env: TestWorkflowEnvironment;
let config: AppConfig;
let orm: Orm;
let dataPlatform: DataPlatformServer;
let api: RunningApiServer;
let contract: ContractRecorder;
let worker: Part;
let workerMetricsUrl: string;

// The mock data platform draws twice per POST: "fail before recording?" against
// failureRate (0), then "fail after recording?" against failAfterRecord (0.5). The
// script makes the first POST record the event and answer 500; every later one succeeds.
const randomScript = [0.9, 0.1];
const scriptedRandom = () => randomScript.shift() ?? 0.9;

beforeAll(async () => {
  const logger = pino({ level: 'warn' });
  env = await startTestTemporal(testConfig());
  dataPlatform = createDataPlatformServer({ logger, random: scriptedRandom, failAfterRecord: 0.5 });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  config = testConfig({
    TASK_QUEUE: uniqueTaskQueue('metrics'),
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
    ORDER_OUTCOME_WAIT_MS: '30000',
  });
  orm = await openTestOrm(config);
  // The suite counts exact deliveries on its own platform: an earlier suite's undelivered
  // outbox rows (its platform gone) would otherwise reach this one through this worker's
  // relay and be counted. They wait an hour; nothing of theirs is checked any more.
  await orm.em.fork().execute(`update data_platform_deliveries set next_attempt_at = now() + interval '1 hour' where status = 'PENDING'`);
  api = await startApiServer({ orm, client: env.client, config, logger }, { host: '127.0.0.1', port: 0, metricsAddress: '127.0.0.1:0' });
  contract = recordContract(api);
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  worker = await startWorkerProcess(envFor(config, { WORKER_METRICS_ADDRESS: metricsAddress }), 'metrics-worker');
  const started = worker.lines().find((l) => l.json?.msg === 'worker started');
  workerMetricsUrl = String(started?.json?.metricsUrl);
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await dataPlatform?.close();
  await orm?.close();
  await env?.teardown();
  expectNoContractViolations(contract);
});

function call(method: string, path: string, body?: unknown) {
  return callApi({ apiUrl: api.url }, method, path, body);
}

function requestsOf(samples: Sample[], labels: Record<string, string>): number {
  return sumOf(samples, 'http_requests_total', labels);
}

describe('API metrics (the metrics listener)', () => {
  it('counts requests and times them by method, route pattern and status, never by raw URL', async () => {
    const productId = await createProduct(orm, 5, 1_000);
    expect((await call('GET', `/products/${productId}`)).status).toBe(200);
    expect((await call('GET', `/products/${productId}`)).status).toBe(200);
    expect((await call('GET', '/products/not-a-number')).status).toBe(400);
    expect((await call('GET', '/orders/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('GET', '/no/such/route')).status).toBe(404);
    expect((await call('DELETE', '/products')).status).toBe(405);

    expect(api.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(api.metricsUrl!).port).not.toBe(new URL(api.url).port);
    const { contentType, samples } = await scrape(api.metricsUrl!);

    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(requestsOf(samples, { method: 'GET', route: '/products/:id', status: '200' })).toBe(2);
    expect(requestsOf(samples, { method: 'GET', route: '/products/:id', status: '400' })).toBe(1);
    expect(requestsOf(samples, { method: 'GET', route: '/orders/:id', status: '404' })).toBe(1);
    expect(requestsOf(samples, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(requestsOf(samples, { method: 'DELETE', route: '/products', status: '405' })).toBe(1);
    // Each counted request is also timed, under the same labels.
    expect(sumOf(samples, 'http_request_duration_seconds_count', { route: '/products/:id', status: '200' })).toBe(2);
    const inf = samplesOf(samples, 'http_request_duration_seconds_bucket', { route: '/products/:id', status: '200', le: '+Inf' });
    expect(inf.map((s) => s.value)).toEqual([2]);
    expect(sumOf(samples, 'http_request_duration_seconds_sum', { route: '/products/:id', status: '200' })).toBeGreaterThan(0);
    // Bounded label values: patterns only, no ids, no unknown paths.
    const routes = new Set(samplesOf(samples, 'http_requests_total').map((s) => s.labels.route));
    for (const route of routes) expect(route === 'unmatched' || /^\/[a-z/:-]*$/.test(route ?? '')).toBe(true);
    expect([...routes].some((r) => r?.includes(String(productId)) || r?.includes('no/such'))).toBe(false);
    // The default process metrics of prom-client.
    expect(samplesOf(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });
});

describe('worker metrics (Temporal Runtime Prometheus exporter)', () => {
  it('exports the SDK metrics and the outbox relay\'s delivery attempts and lag for real sagas', async () => {
    expect(workerMetricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const productId = await createProduct(orm, 10, 1_000);
    const userId = await createUser(orm, 100_000);

    // First order: the relay's first POST of its event is recorded but answered 500
    // (failed_transient); the retry after the backoff is answered as a duplicate. Second
    // order: delivered at once. The sagas end at their pivot; the worker's relay delivers.
    const outcomes: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const placed = await call('POST', '/orders', { userId, items: [{ productId, quantity: 1 }] });
      expect(placed.status).toBe(201);
      outcomes.push(placed.body.status);
      await env.client.workflow.getHandle(orderWorkflowId(placed.body.orderId)).result();
    }
    expect(outcomes).toEqual(['CONFIRMED', 'CONFIRMED']);

    const attempts = (samples: Sample[], outcome: string) => sumOf(samples, 'data_platform_delivery_attempts_total', { outcome });
    let samples: Sample[] = [];
    await pollUntil('the worker to export 3 delivery attempts and 2 lags', async () => {
      ({ samples } = await scrape(workerMetricsUrl));
      return sumOf(samples, 'data_platform_delivery_attempts_total') >= 3 && sumOf(samples, 'data_platform_delivery_lag_ms_count') >= 2;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    expect(dataPlatform.events().map((e) => e.attempts)).toEqual([2, 1]);

    // The relay's metrics, unprefixed, on the worker's Runtime meter.
    expect({
      delivered: attempts(samples, 'delivered'),
      duplicate: attempts(samples, 'duplicate'),
      failed_transient: attempts(samples, 'failed_transient'),
      rejected: attempts(samples, 'rejected'),
    }).toEqual({ delivered: 1, duplicate: 1, failed_transient: 1, rejected: 0 });
    // Lag: once per delivered event, from the pivot's commit to the delivery.
    expect(sumOf(samples, 'data_platform_delivery_lag_ms_count')).toBe(2);
    const lagSum = sumOf(samples, 'data_platform_delivery_lag_ms_sum');
    expect(lagSum).toBeGreaterThan(0);
    expect(lagSum).toBeLessThan(60_000);
    const lagBuckets = samplesOf(samples, 'data_platform_delivery_lag_ms_bucket').map((s) => s.labels.le);
    expect(lagBuckets).toEqual(expect.arrayContaining(['1000', '60000', '3600000', '86400000', '+Inf']));

    // The SDK's own metrics, prefixed `temporal_`, counters with `_total`.
    const byWorkflow = { workflow_type: 'orderCheckout', task_queue: config.temporal.taskQueue };
    expect(sumOf(samples, 'temporal_workflow_completed_total', byWorkflow)).toBe(2);
    expect(sumOf(samples, 'temporal_workflow_task_execution_latency_count', byWorkflow)).toBeGreaterThanOrEqual(2);
    // The sagas end at their pivot: no notifyDataPlatform activity ran.
    const notify = { activity_type: 'notifyDataPlatform', task_queue: config.temporal.taskQueue };
    expect(sumOf(samples, 'temporal_activity_execution_latency_count', notify)).toBe(0);
    expect(samplesOf(samples, 'temporal_worker_task_slots_available', { worker_type: 'ActivityWorker' })).not.toHaveLength(0);
  });
});

describe('the metrics listener is the only place metrics are served', () => {
  it('the public API port answers 404 NotFound for /metrics, in the problem format', async () => {
    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { code: string }).code).toBe('NotFound');
  });

  it('serves GET and HEAD of /metrics only: 405 for another method, 404 for another path', async () => {
    const metricsUrl = api.metricsUrl!;
    const head = await fetch(metricsUrl, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${metricsUrl}?name[]=http_requests_total`)).status).toBe(200);
    const post = await fetch(metricsUrl, { method: 'POST', body: '' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const origin = new URL(metricsUrl).origin;
    for (const path of ['/', '/healthz', '/orders', '/metrics/x']) {
      const res = await fetch(`${origin}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      await res.arrayBuffer();
    }
  });

  it('has no listener without an address, and runs the API without metrics when the address is taken', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const quiet = await startApiServer({ orm, client: env.client, config, logger }, { host: '127.0.0.1', port: 0 });
    const taken = new URL(api.metricsUrl!).host;
    const second = await startApiServer({ orm, client: env.client, config, logger }, { host: '127.0.0.1', port: 0, metricsAddress: taken });
    try {
      expect(quiet.metricsUrl).toBeUndefined();
      expect(second.metricsUrl).toBeUndefined();
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
      const refused = lines.map((l) => JSON.parse(l) as { msg: string; metricsAddress?: string; level: number });
      expect(refused).toContainEqual(expect.objectContaining({ msg: expect.stringContaining('metrics listener could not start'), metricsAddress: taken, level: 50 }));
      // The first API's listener still serves its own registry.
      expect((await fetch(api.metricsUrl!)).status).toBe(200);
    } finally {
      await quiet.close();
      await second.close();
    }
  });
});

/**
 * The Grafana dashboard's metrics (deploy/grafana/dashboards) against real scrapes, the
 * way Prometheus sees them: the API's metrics listener, the real worker process
 * (`node worker/main.ts`, its Runtime's exporter on WORKER_METRICS_ADDRESS) after it ran
 * sagas of every outcome this suite can cause, and the Temporal dev server's own
 * `/metrics` (`--metrics-port`). test/unit/dashboard.test.ts checks the dashboard against
 * the names in the code; this suite checks that those names, the naming of the worker's
 * instruments and the allow-lists of Temporal metrics are what the processes serve.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { pino } from 'pino';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { ALL_SAGA_SEARCH_ATTRIBUTES } from '../../common/saga.ts';
import { orderWorkflowId, reservationWorkflowId } from '../../common/ids.ts';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { createPerformance, createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import type { Part } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { freePort, pollUntil } from '../helpers/waiting.ts';
import { scrape, type Sample } from '../helpers/prometheus.ts';
import { testTemporalCli, uniqueTaskQueue } from '../helpers/temporal.ts';
import { vectorSelectors } from '../helpers/promql.ts';
import {
  TEMPORAL_SDK_FAMILIES,
  TEMPORAL_SERVER_FAMILIES,
  dashboardQueries,
  exportedSeriesByJob,
  seriesOf,
  type DashboardQuery,
} from '../helpers/dashboard.ts';

/**
 * Worker series of the dashboard that the sagas of this suite may not record: only a
 * compensation failing for good parks a saga (the faults that cause one are injected
 * in-process, test/helpers/stack.ts); only the reconciliation counts stray effects (it is
 * off in suites); the queue counters count only what the admission driver admits or times
 * out, and a token that finds room is admitted by its join. test/unit/dashboard.test.ts
 * still finds each in the code.
 */
const MAY_BE_UNRECORDED = ['saga_compensation_failures_total', 'saga_stray_effects', 'queue_tokens_admitted_total', 'queue_tokens_timed_out_total'];

let env: TestWorkflowEnvironment;
let serverMetricsUrl: string;
let config: AppConfig;
let orm: Orm;
let dataPlatform: DataPlatformServer;
let api: RunningApiServer;
let worker: Part;
let workerMetricsUrl: string;
let queries: DashboardQuery[];
let exported: Awaited<ReturnType<typeof exportedSeriesByJob>>;

beforeAll(async () => {
  queries = await dashboardQueries();
  exported = await exportedSeriesByJob();
  const logger = pino({ level: 'warn' });
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by an earlier suite in this process.
  }
  // test/helpers/temporal.ts's startTestTemporal, plus the server's own Prometheus endpoint.
  const serverMetricsPort = await freePort();
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await testTemporalCli(testConfig()) },
      ip: '127.0.0.1',
      ui: false,
      searchAttributes: [...ALL_SAGA_SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'error' },
      extraArgs: ['--metrics-port', String(serverMetricsPort)],
    },
  });
  serverMetricsUrl = `http://127.0.0.1:${serverMetricsPort}/metrics`;
  dataPlatform = createDataPlatformServer({ logger });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  config = testConfig({
    TASK_QUEUE: uniqueTaskQueue('dashboard'),
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    DATA_PLATFORM_URL: dataPlatformUrl,
    ORDER_OUTCOME_WAIT_MS: '30000',
  });
  orm = await openTestOrm(config);
  api = await startApiServer({ orm, client: env.client, config, logger }, { host: '127.0.0.1', port: 0, metricsAddress: '127.0.0.1:0' });
  worker = await startWorkerProcess(envFor(config, { WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}` }), 'dashboard-worker');
  workerMetricsUrl = String(worker.lines().find((l) => l.json?.msg === 'worker started')?.json?.metricsUrl);
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await dataPlatform?.close();
  await orm?.close();
  await env?.teardown();
});

const call = (method: string, path: string, body?: unknown) => callApi({ apiUrl: api.url, orm, config }, method, path, body);

/** The dashboard's selectors of `job`, with where they are. */
function selectorsOf(job: string): { where: string; name: string; labels: string[] }[] {
  return queries.flatMap((q) =>
    vectorSelectors(q.expr)
      .filter((s) => s.matchers.some((m) => m.label === 'job' && m.value === job))
      .map((s) => ({ where: `"${q.panel}" ${q.refId}`, name: s.name, labels: s.matchers.map((m) => m.label).filter((l) => l !== 'job') })),
  );
}

/**
 * What the dashboard selects of `job` and `samples` do not serve: a missing series, or a
 * label the dashboard matches on that no sample of the series carries.
 */
function missingFrom(samples: Sample[], job: string, exempt: readonly string[] = []): string[] {
  const served = new Map<string, Set<string>>();
  for (const s of samples) served.set(s.name, new Set([...(served.get(s.name) ?? []), ...Object.keys(s.labels)]));
  return selectorsOf(job).flatMap(({ where, name, labels }) => {
    const labelsServed = served.get(name);
    if (!labelsServed) return exempt.includes(name) ? [] : [`${where}: ${name}`];
    return labels.filter((l) => !labelsServed.has(l)).map((l) => `${where}: ${name} has no label ${l}`);
  });
}

describe('the dashboard against real scrapes', () => {
  let workerSamples: Sample[] = [];

  beforeAll(async () => {
    // Sagas of each outcome the dashboard shows: confirmed (and delivered through the
    // outbox), cancelled by a failed step with a compensation, a hold expired behind an
    // ACTIVE queue token (callApi joins the queue and waits for the worker to admit it).
    const productId = await createProduct(orm, 10, 1_000);
    const rich = await createUser(orm, 100_000);
    const poor = await createUser(orm, 10);
    const confirmed = await call('POST', '/orders', { userId: rich, items: [{ productId, quantity: 1 }] });
    const cancelled = await call('POST', '/orders', { userId: poor, items: [{ productId, quantity: 1 }] });
    // A refused order answers 4xx with the order inside the problem.
    const orderOf = (res: { body: { orderId?: string; status?: string; order?: { orderId: string; status: string } } }) => res.body.order ?? res.body;
    expect([orderOf(confirmed).status, orderOf(cancelled).status]).toEqual(['CONFIRMED', 'CANCELLED']);
    const { performanceId, seatIds } = await createPerformance(orm, 1);
    const held = await call('POST', '/reservations', { userId: rich, performanceId, seatIds, holdSeconds: 1 });
    expect(held.status).toBe(201);
    const expired = await env.client.workflow.getHandle(reservationWorkflowId(held.body.reservationId)).result();
    expect(expired).toMatchObject({ status: 'EXPIRED' });
    await env.client.workflow.getHandle(orderWorkflowId(orderOf(cancelled).orderId!)).result();

    await pollUntil('the worker to export the delivery, the compensation, the expiry and the queue gauges', async () => {
      workerSamples = (await scrape(workerMetricsUrl)).samples;
      const names = new Set(workerSamples.map((s) => s.name));
      return ['data_platform_delivery_lag_ms_count', 'saga_compensations_total', 'saga_hold_expiries_total', 'queue_tokens_active'].every((n) => names.has(n));
    }, { timeoutMs: 30_000, intervalMs: 250 });
  });

  it('the worker serves every dashboard series of the code and the SDK, with the labels the queries match on', () => {
    expect(missingFrom(workerSamples, 'worker', MAY_BE_UNRECORDED)).toEqual([]);
    // The exemptions are dashboard series the code exports, nothing else.
    const dashboardNames = new Set(selectorsOf('worker').map((s) => s.name));
    for (const name of MAY_BE_UNRECORDED) expect({ name, dashboard: dashboardNames.has(name), exported: exported.worker.has(name) }).toEqual({ name, dashboard: true, exported: true });
    const served = new Set(workerSamples.map((s) => s.name));
    for (const name of TEMPORAL_SDK_FAMILIES.flatMap(seriesOf)) expect({ name, served: served.has(name) }).toEqual({ name, served: true });
  });

  it("names the worker's instruments as the unit test expects: every series it serves besides the SDK's is one the code creates", () => {
    const own = [...new Set(workerSamples.map((s) => s.name))].filter((n) => !n.startsWith('temporal_'));
    expect(own.length).toBeGreaterThanOrEqual(10);
    expect(own.filter((n) => !exported.worker.has(n))).toEqual([]);
  });

  it('the API serves its dashboard series, and only series of the registry the unit test reads', async () => {
    const { samples } = await scrape(api.metricsUrl!);
    expect(missingFrom(samples, 'api')).toEqual([]);
    const served = new Set(samples.map((s) => s.name));
    expect([...served].filter((n) => !exported.api.has(n))).toEqual([]);
  });

  it('the Temporal server serves the allow-listed series, with the labels the queries match on', async () => {
    const { samples } = await scrape(serverMetricsUrl);
    expect(missingFrom(samples, 'temporal')).toEqual([]);
    const served = new Set(samples.map((s) => s.name));
    for (const name of TEMPORAL_SERVER_FAMILIES.flatMap(seriesOf)) expect({ name, served: served.has(name) }).toEqual({ name, served: true });
    expect(selectorsOf('temporal').length).toBeGreaterThan(0);
  });
});

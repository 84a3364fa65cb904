/**
 * The Grafana dashboard and the Prometheus config of deploy/, checked without starting
 * anything: every PromQL query selects metrics the code exports, each through the scrape
 * job that serves it; the job names, targets and ports agree with docker-compose.yml and
 * the code's defaults; the provisioning files point at each other. The allow-lists of
 * Temporal metrics and the naming of the worker's metrics are checked against real
 * scrapes in test/integration/dashboard-metrics.test.ts.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { parseMetricsAddress } from '../../config/metrics-address.ts';
import { loadConfig } from '../../config/index.ts';
import { metricNamesOf, vectorSelectors } from '../helpers/promql.ts';
import {
  ROOT,
  dashboardQueries,
  exportedSeriesByJob,
  loadDashboards,
  panelsOf,
  prometheusJobs,
  workerMeterInstruments,
  workerMetricFamilies,
  type DashboardQuery,
  type ScrapeJob,
} from '../helpers/dashboard.ts';

type ComposeService = {
  image?: string;
  environment?: Record<string, string | number | boolean | null>;
  expose?: (string | number)[];
  volumes?: (string | { source?: string; target?: string })[];
};
let compose: { services: Record<string, ComposeService> };
let queries: DashboardQuery[];
let jobs: ScrapeJob[];
let exported: Awaited<ReturnType<typeof exportedSeriesByJob>>;

beforeAll(async () => {
  compose = parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as typeof compose;
  queries = await dashboardQueries();
  jobs = await prometheusJobs();
  exported = await exportedSeriesByJob();
});

describe('the PromQL scanner', () => {
  test('finds the metric names and leaves out functions, grouping labels, keywords, strings, ranges and variables', () => {
    const expr =
      'histogram_quantile($quantile, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="api", route!~"/x{1}"}[$__rate_interval])))' +
      ' / on (instance) group_left (version) max without (pod) (up offset 5m) and bool 0.95 > ignoring (a) absent(foo_total{a="b,c"}[5m:1m])';
    expect(metricNamesOf(expr)).toEqual(['http_request_duration_seconds_bucket', 'up', 'foo_total']);
    expect(vectorSelectors(expr)[0]?.matchers).toEqual([
      { label: 'job', op: '=', value: 'api' },
      { label: 'route', op: '!~', value: '/x{1}' },
    ]);
    expect(metricNamesOf('sum(rate(saga_ended_total{status="by"}[1h])) by (status) or vector(0)')).toEqual(['saga_ended_total']);
  });

  test('refuses selectors whose metric name it cannot see', () => {
    expect(() => vectorSelectors('{job="api"}')).toThrow(/without a metric name/);
    expect(() => vectorSelectors('sum(x{__name__=~"saga_.*"})')).toThrow(/__name__/);
    expect(() => vectorSelectors('rate(x{job="api"[5m])')).toThrow();
  });
});

describe('deploy/grafana/dashboards', () => {
  test('has queries, each selecting at least one metric', () => {
    expect(queries.length).toBeGreaterThanOrEqual(20);
    for (const q of queries) expect({ ...q, names: metricNamesOf(q.expr).length > 0 }).toEqual({ ...q, names: true });
  });

  test('every metric a query selects is one the code exports, through the job of each selector', () => {
    const jobNames = new Set(jobs.map((j) => j.job_name));
    const problems: string[] = [];
    for (const q of queries) {
      for (const { name, matchers } of vectorSelectors(q.expr)) {
        const job = matchers.find((m) => m.label === 'job');
        const where = `${q.dashboard} "${q.panel}" ${q.refId}: ${name}`;
        if (!job || job.op !== '=') problems.push(`${where} has no job="..." matcher`);
        else if (!jobNames.has(job.value)) problems.push(`${where} selects job "${job.value}", which prometheus.yml does not scrape`);
        else if (!exported[job.value as keyof typeof exported]?.has(name)) problems.push(`${where} is not exported by job "${job.value}"`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('the check fails for a renamed metric or a metric asked of the wrong job', () => {
    expect(exported.worker.has('saga_ended_total')).toBe(true);
    expect(exported.worker.has('saga_finished_total')).toBe(false);
    expect(exported.worker.has('saga_ended')).toBe(false);
    expect(exported.api.has('http_request_duration_seconds_bucket')).toBe(true);
    expect(exported.api.has('http_request_duration_seconds')).toBe(false);
    expect(exported.worker.has('http_requests_total')).toBe(false);
    expect(exported.worker.has('data_platform_delivery_lag_ms_bucket')).toBe(true);
    expect(exported.worker.has('queue_tokens_waiting')).toBe(true);
  });

  test('the panels the operations guide describes are there, each with a unit, a description and the provisioned data source', async () => {
    const datasources = parse(await readFile(path.join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const [source] = datasources.datasources;
    expect(source).toMatchObject({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' });
    for (const [file, dashboard] of await loadDashboards()) {
      const panels = panelsOf(dashboard) as {
        id: number;
        type: string;
        title: string;
        description?: string;
        datasource?: { uid: string };
        targets?: { datasource?: { uid: string } }[];
        fieldConfig?: { defaults?: { unit?: string } };
      }[];
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      for (const p of panels.filter((x) => x.type !== 'row')) {
        const seen = { file, title: p.title, unit: p.fieldConfig?.defaults?.unit ?? '', described: (p.description ?? '').length > 20 };
        expect(seen).toEqual({ file, title: p.title, unit: expect.stringMatching(/\S/), described: true });
        expect([p.datasource?.uid, ...(p.targets ?? []).map((t) => t.datasource?.uid)].every((uid) => uid === source!.uid)).toBe(true);
      }
    }
    const titles = panelsOf((await loadDashboards()).get('sagas.json')!).map((p) => p.title);
    for (const part of ['Sagas finished, by outcome', 'Compensation failures and parked sagas', 'Step latency', 'Delivery lag', 'Outbox backlog',
      'Queue tokens waiting and active', 'Request rate', 'Error ratio', 'Request latency', 'Schedule-to-start latency']) {
      expect(titles.some((t) => t?.startsWith(part))).toBe(true);
    }
  });

  test("a metric renamed in the worker's code is no longer among the exports", async () => {
    const copy = await mkdtemp(path.join(tmpdir(), 'dashboard-'));
    try {
      for (const dir of ['workflows', 'activities', 'worker', 'common']) await cp(path.join(ROOT, dir), path.join(copy, dir), { recursive: true });
      const file = path.join(copy, 'workflows', 'observability.ts');
      await writeFile(file, (await readFile(file, 'utf8')).replace("'saga_ended'", "'saga_finished'"));
      const names = workerMetricFamilies(await workerMeterInstruments(copy)).map((f) => f.name);
      expect(names).toContain('saga_finished_total');
      expect(names).not.toContain('saga_ended_total');
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  test('every worker instrument has a distinct name per kind, so the check cannot conflate two metrics', async () => {
    const instruments = await workerMeterInstruments();
    expect(instruments.length).toBeGreaterThanOrEqual(15);
    const kinds = new Map<string, Set<string>>();
    for (const { name, kind } of instruments) kinds.set(name, (kinds.get(name) ?? new Set()).add(kind));
    expect([...kinds].filter(([, k]) => k.size > 1)).toEqual([]);
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  test('scrapes the API, every worker replica and the Temporal server at the addresses docker-compose.yml gives them', async () => {
    const byName = Object.fromEntries(jobs.map((j) => [j.job_name, j]));
    expect(Object.keys(byName).sort()).toEqual(['api', 'temporal', 'worker']);
    for (const job of jobs) expect(job.metrics_path ?? '/metrics').toBe('/metrics');

    const apiAddress = parseMetricsAddress(String(compose.services.api?.environment?.API_METRICS_ADDRESS));
    expect(byName.api?.static_configs?.flatMap((c) => c.targets)).toEqual([`api:${apiAddress?.port}`]);
    expect(compose.services.api?.expose).toContain(String(apiAddress?.port));

    // The worker's address is the image's (Dockerfile ENV), unless compose sets another.
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    const imageAddress = /WORKER_METRICS_ADDRESS=(\S+)/.exec(dockerfile)?.[1];
    const workerAddress = parseMetricsAddress(String(compose.services.worker?.environment?.WORKER_METRICS_ADDRESS ?? imageAddress));
    expect(workerAddress?.host).toBe('0.0.0.0');
    expect(byName.worker?.static_configs).toBeUndefined();
    expect(byName.worker?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['worker'], type: 'A', port: workerAddress?.port })]);
    expect(compose.services.worker?.expose).toContain(String(workerAddress?.port));
    // The code's default is loopback: only the image and compose open it to the network.
    expect(loadConfig({}).worker.metricsAddress).toBe(`127.0.0.1:${workerAddress?.port}`);

    const [temporalTarget] = byName.temporal?.static_configs?.flatMap((c) => c.targets) ?? [];
    expect(temporalTarget).toMatch(/^temporal:\d+$/);
    const temporalEnv = compose.services.temporal?.environment ?? {};
    expect(String(temporalEnv.PROMETHEUS_ENDPOINT)).toBe(`0.0.0.0:${temporalTarget!.split(':')[1]}`);
  });
});

describe('docker-compose.yml monitoring services', () => {
  const mountsOf = (service: ComposeService | undefined) =>
    (service?.volumes ?? []).map((v) => {
      if (typeof v !== 'string') return { source: v.source ?? '', target: v.target ?? '' };
      const [source = '', target = ''] = v.split(':');
      return { source, target };
    });

  test('Prometheus runs the config of deploy/, Grafana the provisioning and dashboards of deploy/, as the provisioning files expect', async () => {
    const prometheus = mountsOf(compose.services.prometheus);
    expect(prometheus).toContainEqual({ source: './deploy/prometheus/prometheus.yml', target: '/etc/prometheus/prometheus.yml' });
    const grafana = mountsOf(compose.services.grafana);
    expect(grafana).toContainEqual({ source: './deploy/grafana/provisioning', target: '/etc/grafana/provisioning' });
    const providers = parse(await readFile(path.join(ROOT, 'deploy/grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashboardsPath = providers.providers[0]!.options.path;
    expect(grafana).toContainEqual({ source: './deploy/grafana/dashboards', target: dashboardsPath });
    for (const { source } of [...prometheus, ...grafana].filter((m) => m.source.startsWith('./'))) {
      expect({ source, exists: existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
    }
  });
});

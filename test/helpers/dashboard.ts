/**
 * The monitoring files of deploy/ read for tests, and the metric names the code exports,
 * so the Grafana dashboard can be checked against them: a renamed metric fails the check
 * instead of leaving an empty panel.
 *
 * Exports, per Prometheus job (deploy/prometheus/prometheus.yml):
 * - `api`: the families of the API's prom-client registry (createApiMetrics());
 * - `worker`: the instruments the worker's code creates on a Temporal `MetricMeter`
 *   (found in the source of workflows/, activities/ and worker/, named as the Runtime's
 *   Prometheus exporter names them with worker/metrics.ts's options), plus the SDK's own
 *   metrics the dashboard uses ({@link TEMPORAL_SDK_FAMILIES});
 * - `temporal`: the Temporal server's metrics the dashboard uses ({@link TEMPORAL_SERVER_FAMILIES}).
 * test/integration/dashboard-metrics.test.ts checks all three against real scrapes.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { createApiMetrics } from '../../api/middleware/metrics.ts';
import { workerTelemetryOptions } from '../../worker/metrics.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const DASHBOARDS_DIR = path.join(ROOT, 'deploy', 'grafana', 'dashboards');
export const PROMETHEUS_CONFIG = path.join(ROOT, 'deploy', 'prometheus', 'prometheus.yml');

/** A Prometheus metric family: its name and type, which decide its series names. */
export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
}

/** The series names a family exposes: a histogram's `_bucket`, `_sum` and `_count`, a summary's quantiles, `_sum` and `_count`. */
export function seriesOf(family: MetricFamily): string[] {
  const { name, type } = family;
  if (type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === 'summary') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

/** One PromQL query of a dashboard: where it sits and its text. */
export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { refId?: string; expr?: string }[];
}

/** Every panel of a dashboard, those inside (collapsed) rows included. */
export function panelsOf(dashboard: { panels?: Panel[] }): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...panelsOf(p)]);
}

/** The dashboard JSON files of deploy/grafana/dashboards, parsed, by file name. */
export async function loadDashboards(): Promise<Map<string, Record<string, unknown> & { panels?: Panel[] }>> {
  const files = (await readdir(DASHBOARDS_DIR)).filter((f) => f.endsWith('.json')).sort();
  const entries = await Promise.all(files.map(async (f) => [f, JSON.parse(await readFile(path.join(DASHBOARDS_DIR, f), 'utf8'))] as const));
  return new Map(entries);
}

/** Every PromQL expression of every provisioned dashboard: panel targets and query variables. */
export async function dashboardQueries(): Promise<DashboardQuery[]> {
  const queries: DashboardQuery[] = [];
  for (const [file, dashboard] of await loadDashboards()) {
    for (const panel of panelsOf(dashboard)) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) queries.push({ dashboard: file, panel: panel.title ?? '', refId: target.refId ?? '', expr: target.expr });
      }
    }
    const variables = (dashboard.templating as { list?: { name: string; type: string; query?: string | { query?: string } }[] } | undefined)?.list ?? [];
    for (const v of variables.filter((x) => x.type === 'query')) {
      const expr = typeof v.query === 'string' ? v.query : v.query?.query;
      if (expr) queries.push({ dashboard: file, panel: `variable ${v.name}`, refId: '', expr });
    }
  }
  return queries;
}

/** One scrape job of deploy/prometheus/prometheus.yml, as far as the checks read it. */
export interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type?: string; port?: number }[];
}

/** The scrape jobs of the Prometheus config. */
export async function prometheusJobs(): Promise<ScrapeJob[]> {
  const config = parse(await readFile(PROMETHEUS_CONFIG, 'utf8')) as { scrape_configs?: ScrapeJob[] };
  return config.scrape_configs ?? [];
}

/** The families of a fresh API registry: the HTTP metrics and prom-client's process defaults. */
export async function apiMetricFamilies(): Promise<MetricFamily[]> {
  const metrics = await createApiMetrics().registry.getMetricsAsJSON();
  return metrics.map((m) => ({ name: m.name, type: String(m.type) as MetricFamily['type'] }));
}

/** An instrument the worker's code creates on a Temporal `MetricMeter`, and where. */
export interface MeterInstrument {
  name: string;
  kind: 'counter' | 'histogram' | 'gauge' | 'upDownCounter';
  at: string;
}

const CREATE_METHODS = new Map<string, MeterInstrument['kind']>([
  ['createCounter', 'counter'],
  ['createHistogram', 'histogram'],
  ['createGauge', 'gauge'],
  ['createUpDownCounter', 'upDownCounter'],
]);

/** The code that runs in the worker process and may create instruments. */
const WORKER_SOURCE_DIRS = ['workflows', 'activities', 'worker', 'common'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

/**
 * Every `create{Counter,Histogram,Gauge,UpDownCounter}(name, ...)` call in the worker's
 * source, with its name: a string literal, or a `const` initialised with one (in any of
 * these files, as the metric-name constants of activities/data-platform.ts are).
 * `root`: the repository to read (tests of this function read a changed copy).
 *
 * @throws Error for a call whose name is neither: the check must not skip an instrument.
 */
export async function workerMeterInstruments(root = ROOT): Promise<MeterInstrument[]> {
  const files = (await Promise.all(WORKER_SOURCE_DIRS.map((d) => sourceFiles(path.join(root, d))))).flat().sort();
  const sources = await Promise.all(
    files.map(async (f) => ts.createSourceFile(f, await readFile(f, 'utf8'), ts.ScriptTarget.Latest, true)),
  );
  const constants = new Map<string, string>();
  const calls: { source: ts.SourceFile; call: ts.CallExpression; kind: MeterInstrument['kind'] }[] = [];
  const visit = (source: ts.SourceFile, node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isStringLiteralLike(node.initializer)) {
      constants.set(node.name.text, node.initializer.text);
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const kind = CREATE_METHODS.get(node.expression.name.text);
      if (kind) calls.push({ source, call: node, kind });
    }
    ts.forEachChild(node, (child) => visit(source, child));
  };
  for (const source of sources) visit(source, source);
  return calls.map(({ source, call, kind }) => {
    const arg = call.arguments[0];
    const at = `${path.relative(root, source.fileName)}:${source.getLineAndCharacterOfPosition(call.getStart()).line + 1}`;
    const name = arg && ts.isStringLiteralLike(arg) ? arg.text : arg && ts.isIdentifier(arg) ? constants.get(arg.text) : undefined;
    if (name === undefined) throw new Error(`${at}: the metric name is not a string literal or a string constant`);
    return { name, kind, at };
  });
}

/**
 * The families the worker's Runtime exporter serves for `instruments`, named as
 * worker/metrics.ts configures it: counters with `_total` when `countersTotalSuffix` is
 * on, no unit suffixes (`unitSuffix` off), up-down counters as gauges.
 *
 * @throws Error when worker/metrics.ts turns on a naming option this function does not model.
 */
export function workerMetricFamilies(instruments: MeterInstrument[]): MetricFamily[] {
  const metrics = workerTelemetryOptions('127.0.0.1:9464').metrics;
  const prometheus = metrics && 'prometheus' in metrics ? metrics.prometheus : undefined;
  if (!prometheus) throw new Error('worker/metrics.ts no longer configures a Prometheus exporter');
  if (prometheus.unitSuffix) throw new Error('worker/metrics.ts turned on unitSuffix: model it here');
  const total = prometheus.countersTotalSuffix ? '_total' : '';
  const byName = new Map<string, MetricFamily>();
  for (const { name, kind } of instruments) {
    const family: MetricFamily =
      kind === 'counter' ? { name: `${name}${total}`, type: 'counter' } : { name, type: kind === 'histogram' ? 'histogram' : 'gauge' };
    byName.set(family.name, family);
  }
  return [...byName.values()];
}

/**
 * The Temporal SDK's own metrics (the worker's Runtime exporter, prefixed `temporal_`,
 * durations in ms) the dashboard may use. Names from the Core SDK's metrics
 * (https://docs.temporal.io/references/sdk-metrics); the integration test finds each on
 * a real worker's `/metrics` after it ran sagas.
 */
export const TEMPORAL_SDK_FAMILIES: readonly MetricFamily[] = [
  { name: 'temporal_activity_execution_latency', type: 'histogram' },
  { name: 'temporal_activity_schedule_to_start_latency', type: 'histogram' },
  { name: 'temporal_workflow_task_schedule_to_start_latency', type: 'histogram' },
  { name: 'temporal_worker_task_slots_available', type: 'gauge' },
];

/**
 * The Temporal server's metrics (tally's Prometheus reporter: counters without `_total`,
 * timers as histograms in seconds) the dashboard may use. The integration test finds each
 * on the `/metrics` of the CLI's dev server (Temporal Server 1.29, the same metric
 * definitions as the temporalio/server image of docker-compose.yml).
 */
export const TEMPORAL_SERVER_FAMILIES: readonly MetricFamily[] = [
  { name: 'service_requests', type: 'counter' },
  { name: 'service_latency', type: 'histogram' },
];

/** The series names each Prometheus job of deploy/prometheus/prometheus.yml serves, as far as the code and the allow-lists say. */
export async function exportedSeriesByJob(): Promise<Record<'api' | 'worker' | 'temporal', Set<string>>> {
  const worker = [...workerMetricFamilies(await workerMeterInstruments()), ...TEMPORAL_SDK_FAMILIES];
  return {
    api: new Set((await apiMetricFamilies()).flatMap(seriesOf)),
    worker: new Set(worker.flatMap(seriesOf)),
    temporal: new Set(TEMPORAL_SERVER_FAMILIES.flatMap(seriesOf)),
  };
}

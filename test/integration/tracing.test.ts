/**
 * OpenTelemetry tracing end to end, and the request id in the sagas' logs, on the real
 * processes: the API (`node api/server.ts`) and the worker (`node worker/main.ts`) as child
 * processes, so that what is checked is what runs in production, where an instrumentation
 * patches pg and Koa only through Node's module hooks (jest loads modules its own way,
 * past those hooks, so an in-process stack would prove nothing about them). The processes
 * export their spans as OTLP/JSON to a collector in this process; a Temporal dev server,
 * PostgreSQL (test database) and the mock data platform are real.
 *
 * One order must make ONE trace: the API's request span, the Temporal client's
 * Update-with-Start span, the workflow run, each step's activity span (local activities)
 * and the SQL of each step under it. With tracing off, the request id still reaches the
 * workflow's and the activities' log records. The recorded histories replay with both
 * interceptor modules in the bundle.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { orderWorkflowId } from '../../common/ids.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { WORKFLOWS_PATH, workflowInterceptorModules } from '../../worker/worker.ts';
import { killAllParts, type Part, type PartLine } from '../helpers/parts.ts';
import { envFor, startApiProcess, startWorkerProcess, type ApiPart } from '../helpers/processes.ts';
import { pollUntil } from '../helpers/waiting.ts';

/** One span as the OTLP/JSON exporter sends it, with its service. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** A minimal OTLP/HTTP JSON receiver: keeps every span POSTed to `/v1/traces`. */
async function startCollector(): Promise<{ url: string; spans: ReceivedSpan[]; server: Server }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      for (const rs of body.resourceSpans ?? []) {
        const service = attributesOf(rs.resource?.attributes)['service.name'] as string;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

function attributesOf(list: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, Object.values(value)[0]]));
}

const logger = pino({ level: 'warn' });
let env: TestWorkflowEnvironment;
let dataPlatform: DataPlatformServer;
let collector: Awaited<ReturnType<typeof startCollector>>;
let dataPlatformUrl: string;
let orm: Orm;
const parts: Part[] = [];

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
  dataPlatform = createDataPlatformServer({ logger });
  ({ url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1'));
  collector = await startCollector();
  orm = await openTestOrm(testConfig());
});

afterAll(async () => {
  for (const part of parts) await part.stop(10_000);
  await killAllParts();
  await dataPlatform?.close();
  collector?.server.close();
  await orm?.close();
  await env?.teardown();
});

/** The config of one API + worker pair on a task queue of its own. */
function pairConfig(): AppConfig {
  return testConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TASK_QUEUE: uniqueTaskQueue('tracing'),
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
    ORDER_OUTCOME_WAIT_MS: '30000',
  });
}

/** Starts the worker and the API as processes with `extra` environment; the worker logs at debug (the SDK's activity records). */
async function startPair(config: AppConfig, extra: Record<string, string>): Promise<{ worker: Part; api: ApiPart }> {
  const [worker, api] = await Promise.all([
    startWorkerProcess(envFor(config, { ...extra, LOG_LEVEL: 'debug' }), `worker${extra.OTEL_EXPORTER_OTLP_ENDPOINT ? ' (tracing)' : ''}`),
    startApiProcess(envFor(config, extra), `api${extra.OTEL_EXPORTER_OTLP_ENDPOINT ? ' (tracing)' : ''}`),
  ]);
  parts.push(worker, api);
  return { worker, api };
}

/** Places a confirmed order through `api` with request id `requestId`; returns its order id. */
async function placeOrder(api: ApiPart, requestId: string): Promise<string> {
  const productId = await createProduct(orm, 10, 1_000);
  const userId = await createUser(orm, 50_000);
  const res = await callApi({ apiUrl: api.url }, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] }, { 'X-Request-Id': requestId }, { as: userId });
  expect([res.status, res.body.status]).toEqual([201, 'CONFIRMED']);
  await env.client.workflow.getHandle(orderWorkflowId(res.body.orderId)).result();
  return res.body.orderId as string;
}

/** The worker's log record written by the workflow when it confirmed `orderId`. */
function orderConfirmedLine(worker: Part, orderId: string): Promise<PartLine> {
  return worker.waitForLine((l) => l.json?.msg === 'order confirmed' && l.json.orderId === orderId, 30_000);
}

/** The SDK's "Activity completed" record of `activityType` in the saga of `orderId`. */
function activityCompletedLine(worker: Part, orderId: string, activityType: string): Promise<PartLine> {
  return worker.waitForLine(
    (l) => l.json?.msg === 'Activity completed' && l.json.workflowId === orderWorkflowId(orderId) && l.json.activityType === activityType,
    30_000,
  );
}

/** Whether `span` belongs to workflow `workflowId`: client and activity spans name it in `temporalWorkflowId`, the workflow's own in `workflowId`. */
function ofSaga(span: ReceivedSpan, workflowId: string): boolean {
  return span.attributes.temporalWorkflowId === workflowId || span.attributes.workflowId === workflowId;
}

/** OTLP's SPAN_KIND_SERVER. */
const SERVER = 2;

const ORDER_STEPS = ['createOrder', 'reserveStock', 'payWithPoints', 'confirmOrder'];

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let pair: { worker: Part; api: ApiPart };

  beforeAll(async () => {
    pair = await startPair(pairConfig(), { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  });

  it('makes one trace of an order: request, Update-with-Start, workflow run, each step and its SQL', async () => {
    const requestId = `trace-${randomUUID()}`;
    const orderId = await placeOrder(pair.api, requestId);
    const workflowId = orderWorkflowId(orderId);

    // The processes export in batches (every few seconds): wait for the last steps' spans.
    const request = () =>
      collector.spans.find((s) => s.service === 'sagas-api' && s.kind === SERVER && s.name === 'POST /orders' && s.attributes['http.response.status_code'] === 201);
    const stepSpans = (traceId: string) =>
      collector.spans.filter((s) => s.traceId === traceId && s.service === 'sagas-worker' && s.name.startsWith('RunActivity:'));
    await pollUntil('the spans of the order', () => {
      const root = request();
      return root !== undefined && ORDER_STEPS.every((step) => stepSpans(root.traceId).some((s) => s.name === `RunActivity:${step}`));
    }, { timeoutMs: 30_000 });
    const root = request()!;
    const trace = collector.spans.filter((s) => s.traceId === root.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const one = (name: string) => {
      const found = trace.filter((s) => s.name === name);
      expect(found.map((s) => s.name)).toEqual([name]);
      return found[0]!;
    };

    // The request is the root; every span of this workflow, wherever made, is in its trace.
    expect(root.parentSpanId).toBeUndefined();
    const ofWorkflow = collector.spans.filter((s) => ofSaga(s, workflowId));
    expect(new Set(ofWorkflow.map((s) => s.traceId))).toEqual(new Set([root.traceId]));

    // Koa's router: one span per layer of the route (guard, rate limit, body parser, handler), nested.
    const routeLayers = trace.filter((s) => s.name === 'router - /orders');
    expect(routeLayers.length).toBeGreaterThan(0);
    expect(routeLayers.filter((s) => parentOf(s) === root)).toHaveLength(1);
    const start = one('UpdateWithStartWorkflow:orderOutcome');
    expect(start.service).toBe('sagas-api');
    const run = one('RunWorkflow:orderCheckout');
    expect([run.service, parentOf(run)]).toEqual(['sagas-worker', start]);

    for (const step of ORDER_STEPS) {
      const runStep = one(`RunActivity:${step}`);
      const startStep = parentOf(runStep)!;
      expect([startStep.name, parentOf(startStep)]).toEqual([`StartActivity:${step}`, run]);
      // The step's SQL, under its activity span.
      const sql = trace.filter((s) => s.attributes['db.system.name'] === 'postgresql' && parentOf(s) === runStep);
      expect(sql.length).toBeGreaterThan(0);
    }
    // Nothing in the trace hangs loose: every span but the root has its parent in it.
    expect(trace.filter((s) => s !== root && !parentOf(s)).map((s) => s.name)).toEqual([]);
  });

  it('puts the request id into the workflow and activity log records', async () => {
    const requestId = `trace-logs-${randomUUID()}`;
    const orderId = await placeOrder(pair.api, requestId);
    const workflowLine = await orderConfirmedLine(pair.worker, orderId);
    expect(workflowLine.json).toMatchObject({ requestId, workflowId: orderWorkflowId(orderId) });
    const activityLine = await activityCompletedLine(pair.worker, orderId, 'payWithPoints');
    expect(activityLine.json).toMatchObject({ requestId });
  });
});

describe('tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  let pair: { worker: Part; api: ApiPart };

  beforeAll(async () => {
    pair = await startPair(pairConfig(), {});
  });

  it('still puts the request id into the workflow and activity log records, and exports nothing', async () => {
    const requestId = `no-trace-${randomUUID()}`;
    const orderId = await placeOrder(pair.api, requestId);
    const workflowLine = await orderConfirmedLine(pair.worker, orderId);
    expect(workflowLine.json).toMatchObject({ requestId, workflowId: orderWorkflowId(orderId) });
    for (const step of ORDER_STEPS) {
      const activityLine = await activityCompletedLine(pair.worker, orderId, step);
      expect(activityLine.json).toMatchObject({ requestId });
      expect(activityLine.json).not.toHaveProperty('trace_id');
    }
    expect(collector.spans.filter((s) => ofSaga(s, orderWorkflowId(orderId)))).toEqual([]);
  });
});

describe('recorded histories', () => {
  it('replay with the request id and tracing interceptors in the bundle', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: workflowInterceptorModules(true), logger: new DefaultLogger('ERROR') });
    const dir = new URL('../histories/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    async function* histories() {
      for (const file of files) yield { workflowId: file, history: JSON.parse(await readFile(new URL(file, dir), 'utf8')) };
    }
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories())) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});

/**
 * Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, and off means nothing
 * installed: no SDK, no instrumentation, no Temporal interceptor, sink or workflow module
 * of OpenTelemetry, no OpenTelemetry module even loaded. The request id header, which is
 * independent of tracing, is always there. (Tracing on: test/integration/tracing.test.ts.)
 */
import { describe, it, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { trace } from '@opentelemetry/api';
import { loadConfig } from '../../config/index.ts';
import { startTracing } from '../../config/tracing.ts';
import { requestIdClientInterceptor, temporalClientInterceptors } from '../../api/temporal.ts';
import { workerTracingOptions } from '../../worker/tracing.ts';
import { workflowInterceptorModules } from '../../worker/worker.ts';
import { REQUEST_ID_HEADER_KEY, requestIdOf, withRequestId } from '../../common/request-id.ts';
import { REPO_ROOT } from '../../scripts/temporal-cli.ts';

describe('tracing settings', () => {
  it('are off when OTEL_EXPORTER_OTLP_ENDPOINT is unset or empty', () => {
    expect(loadConfig({}).tracing.endpoint).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing.endpoint).toBeUndefined();
  });

  it('read the endpoint, protocol, headers and service name when set', () => {
    const { tracing } = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-team = sagas',
      OTEL_SERVICE_NAME: 'checkout-api',
    });
    expect(tracing).toEqual({
      endpoint: 'http://collector:4318',
      protocol: 'http/protobuf',
      headers: { authorization: 'Bearer abc', 'x-team': 'sagas' },
      serviceName: 'checkout-api',
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing.protocol).toBe('http/json');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT unset', () => {
  const { tracing: off } = loadConfig({});

  it('starts no SDK: the global tracer stays the no-op one', async () => {
    expect(await startTracing(off, { service: 'sagas-api', instrument: ['http', 'koa', 'pg', 'undici'] })).toBeUndefined();
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it('installs no Temporal interceptor, sink or workflow module of OpenTelemetry', async () => {
    expect(await workerTracingOptions(undefined)).toEqual({ activityInterceptors: [], sinks: {} });
    const client = await temporalClientInterceptors(false);
    expect(client.workflow).toHaveLength(1);
    expect((client.workflow as object[]).map((i) => i.constructor.name)).not.toContain('OpenTelemetryWorkflowClientInterceptor');
    expect(workflowInterceptorModules(false).map((m) => m.replace(REPO_ROOT, ''))).toEqual(['/workflows/request-id-interceptors.ts']);
    expect(workflowInterceptorModules(true).map((m) => m.replace(REPO_ROOT, ''))).toEqual([
      '/workflows/request-id-interceptors.ts',
      '/workflows/tracing-interceptors.ts',
    ]);
  });

  it('loads no OpenTelemetry module at all (what the API and the worker run when tracing is off)', () => {
    // In a fresh Node (jest's own module loader would hide what Node loads): every module
    // the off path resolves is recorded by a resolve hook.
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); loaded.push(r.url); return r; } });
      const { loadConfig } = await import('./config/index.ts');
      const { startTracing } = await import('./config/tracing.ts');
      const { temporalClientInterceptors } = await import('./api/temporal.ts');
      const { workerTracingOptions } = await import('./worker/tracing.ts');
      const config = loadConfig({});
      await startTracing(config.tracing, { service: 'probe', instrument: ['http', 'koa', 'pg', 'undici'] });
      await temporalClientInterceptors(false);
      await workerTracingOptions(undefined);
      console.log(JSON.stringify(loaded.filter((url) => /opentelemetry|import-in-the-middle|require-in-the-middle/.test(url))));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout.trim())).toEqual([]);
  });
});

describe('the request id header', () => {
  it('round-trips through Temporal headers and is absent outside a request', () => {
    expect(requestIdOf(withRequestId({}, 'req-1'))).toBe('req-1');
    expect(withRequestId({}, undefined)).toEqual({});
    expect(requestIdOf({})).toBeUndefined();
    expect(requestIdOf(undefined)).toBeUndefined();
  });

  it('is added by the client interceptor to the start and the Update of an Update-with-Start', async () => {
    const interceptor = requestIdClientInterceptor(() => 'req-2');
    let seen: { workflowStartHeaders: object; updateHeaders: object } | undefined;
    await interceptor.startUpdateWithStart!(
      { workflowStartHeaders: {}, updateHeaders: {} } as never,
      async (input) => {
        seen = input;
        return {} as never;
      },
    );
    expect(Object.keys(seen!.workflowStartHeaders)).toEqual([REQUEST_ID_HEADER_KEY]);
    expect(requestIdOf(seen!.updateHeaders as never)).toBe('req-2');
  });
});

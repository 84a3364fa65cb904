/**
 * OpenTelemetry tracing of the Node processes: the SDK, the OTLP/HTTP exporter and the
 * instrumentations (incoming HTTP, Koa's router, pg, undici), started by the API and the
 * worker before they import what is instrumented. Off unless `OTEL_EXPORTER_OTLP_ENDPOINT`
 * is set: {@link startTracing} then returns undefined without loading any OpenTelemetry
 * module, so a process without tracing pays nothing for it.
 *
 * Under ESM an instrumentation patches a module only when it is loaded after the
 * instrumentation was registered: pg (CommonJS) through Node's require hook, Koa (whose
 * package entry is ESM) only through the import-in-the-middle loader hook, registered here
 * for `koa` alone; undici reports its requests on diagnostics_channel and needs no patch.
 * Hence the entry points (api/server.ts, worker/main.ts) start tracing first and import
 * the ORM and the Koa app after it. The Temporal side (client, workflow and activity
 * interceptors) is wired by api/temporal.ts and worker/tracing.ts.
 */
import { createRequire, register } from 'node:module';
import type { Resource } from '@opentelemetry/resources';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingSettings } from './index.ts';

/** The instrumentations a process can ask for. */
export type Instrumented = 'http' | 'koa' | 'pg' | 'undici';

/** A started tracing SDK. */
export interface Tracing {
  /** The `service.name` and SDK attributes of this process's spans. */
  resource: Resource;
  /** Where every span ends up (batched to the exporter); the worker hands it to the workflow span sink. */
  spanProcessor: SpanProcessor;
  /** Exports the spans still buffered and stops the SDK; call once, at shutdown. */
  shutdown(): Promise<void>;
}

/** Options of {@link startTracing}. */
export interface StartTracingOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` says otherwise, e.g. `sagas-api`. */
  service: string;
  instrument: readonly Instrumented[];
  /** Spans go here instead of the OTLP exporter (tests). */
  exporter?: SpanExporter;
}

/**
 * Starts tracing when `settings.endpoint` is set: a global tracer provider (W3C trace
 * context, AsyncLocalStorage context) whose spans are batched to the OTLP/HTTP exporter
 * (`<endpoint>/v1/traces`, protobuf or JSON), and the asked-for instrumentations:
 * incoming HTTP requests (not `/healthz` and `/metrics`), Koa's router layers, pg queries
 * made inside a span, undici requests. Modules loaded before this call are not patched.
 *
 * @returns undefined when tracing is off (nothing loaded, nothing installed).
 */
export async function startTracing(settings: TracingSettings, options: StartTracingOptions): Promise<Tracing | undefined> {
  if (!settings.endpoint) return undefined;
  if (options.instrument.includes('koa')) {
    // Koa's package entry is an ES module: only the loader hook sees it; limited to koa,
    // so no other module pays for the hook's wrapping.
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['koa'] } });
  }
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { Resource }, { registerInstrumentations }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
  ]);
  const resource = Resource.default().merge(new Resource({ 'service.name': settings.serviceName ?? options.service }));
  const spanProcessor = new BatchSpanProcessor(options.exporter ?? (await otlpExporter(settings, settings.endpoint)));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  registerInstrumentations({ tracerProvider: provider, instrumentations: await instrumentations(options.instrument) });
  // The http instrumentation patches `Server.prototype.emit` when `http` is next required;
  // the API imported `node:http` as an ES module before, which no require hook sees.
  if (options.instrument.includes('http')) createRequire(import.meta.url)('node:http');
  return {
    resource,
    spanProcessor,
    shutdown: () => provider.shutdown(),
  };
}

async function otlpExporter(settings: TracingSettings, endpoint: string): Promise<SpanExporter> {
  const url = `${endpoint.replace(/\/+$/, '')}/v1/traces`;
  const headers = { ...settings.headers };
  if (settings.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url, headers });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url, headers });
}

/** Requests that say nothing about the service: health checks and metric scrapes. */
const UNTRACED_PATHS = new Set(['/healthz', '/metrics']);

async function instrumentations(instrument: readonly Instrumented[]) {
  const list = [];
  if (instrument.includes('http')) {
    const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
    list.push(
      new HttpInstrumentation({
        // Outgoing calls are undici's (fetch included) and Temporal's gRPC; node:http makes none worth a span.
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
    );
  }
  if (instrument.includes('koa')) {
    const { KoaInstrumentation, KoaLayerType } = await import('@opentelemetry/instrumentation-koa');
    // The route's layer only: one span per request naming its route, not one per middleware.
    list.push(new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }));
  }
  if (instrument.includes('pg')) {
    const { PgInstrumentation } = await import('@opentelemetry/instrumentation-pg');
    // Queries outside any span (the relay's and the queue driver's polls, LISTEN) make no traces of their own.
    list.push(new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }));
  }
  if (instrument.includes('undici')) {
    const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');
    list.push(new UndiciInstrumentation());
  }
  return list;
}

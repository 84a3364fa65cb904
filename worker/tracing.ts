/**
 * The Temporal side of tracing in the worker, when tracing is on (config/tracing.ts): the
 * activity interceptors of @temporalio/interceptors-opentelemetry (a `RunActivity` span
 * per activity, normal or local, child of the workflow's `StartActivity` span, whose
 * context comes in the activity's headers; the span's trace id in the activity's log
 * attributes) and the `exporter` sink through which the spans made in the workflow
 * sandbox (workflows/tracing-interceptors.ts) reach this process's span processor.
 * The interceptors package is loaded only when tracing is on.
 */
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { Tracing } from '../config/tracing.ts';

/** What tracing adds to the saga worker's options; empty when tracing is off. */
export interface WorkerTracingOptions {
  /** Outermost activity interceptors, so that every span of an activity is under its `RunActivity`. */
  activityInterceptors: ActivityInterceptorsFactory[];
  sinks: NonNullable<WorkerOptions['sinks']>;
}

/** The worker options of `tracing`; nothing when it is undefined (tracing off). */
export async function workerTracingOptions(tracing: Tracing | undefined): Promise<WorkerTracingOptions> {
  if (!tracing) return { activityInterceptors: [], sinks: {} };
  const otel = await import('@temporalio/interceptors-opentelemetry');
  return {
    activityInterceptors: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

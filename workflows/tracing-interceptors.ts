/**
 * Workflow interceptors (not a workflow) of OpenTelemetry tracing, from
 * @temporalio/interceptors-opentelemetry: a `RunWorkflow` span per workflow run (child of
 * the client's span, whose context arrives in the start's headers), `HandleUpdate` and
 * `HandleSignal` spans, and a `StartActivity` span per activity, whose context goes to the
 * activity in its headers. The spans leave the sandbox through the `exporter` sink the
 * worker injects (worker/tracing.ts). Bundled only when tracing is on
 * (worker/worker.ts `workflowInterceptorModules`).
 *
 * Replay-safe: spans are exported through a sink that is not called during replay, and
 * the interceptors gate their behaviour on SDK flags recorded in the history.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
// The one import from outside the allowed list: the interceptors package's workflow entry, made for the sandbox.
// eslint-disable-next-line no-restricted-imports
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';

/** Called by the workflow runtime once per workflow execution. */
export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});

/**
 * Temporal client plumbing of the API: every call under a deadline, so a request never
 * waits on Temporal for longer than it can afford, and the recognition of an unreachable
 * service and of a typed failure. Workflows are reached by type name (common/ids.ts); the
 * API never imports workflows/.
 */
import {
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  isGrpcServiceError,
  type Client,
  type ClientInterceptors,
  type WorkflowClientInterceptor,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import { withRequestId } from '../common/request-id.ts';
import { currentRequestId } from './middleware/request-context.ts';

/** Deadline of short calls made for reads and health checks (Query, Describe, system info), in ms. */
export const SHORT_CALL_DEADLINE_MS = 2000;

// gRPC status codes that mean "the service is not there or too slow" (not a client mistake).
const UNAVAILABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

/**
 * True when `err` (or any error in its `cause` chain) says Temporal was unreachable,
 * overloaded, or did not answer before the deadline.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    if (current instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    if (isGrpcServiceError(current) && UNAVAILABLE_CODES.has(current.code)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Runs `fn` with a gRPC deadline `ms` from now on every call it makes through `client`.
 *
 * @throws what `fn` throws; calls past the deadline fail with DEADLINE_EXCEEDED, which
 *   {@link isTemporalUnavailable} recognizes.
 */
export function withDeadline<T>(client: Client, ms: number, fn: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + ms, fn);
}

/**
 * Sends Update `update` to the running workflow `workflowId` and waits for its result,
 * all within `ms` (one deadline covers its acceptance by a worker and its result).
 *
 * @throws WorkflowNotFoundError when no such workflow runs (finished, or never started);
 *   WorkflowUpdateFailedError when its validator or handler refused it;
 *   WorkflowUpdateRPCTimeoutOrCancelledError when no result came within `ms`; other
 *   Temporal errors (unreachable service).
 */
export function executeUpdate<Result>(client: Client, ms: number, workflowId: string, update: UpdateDefinition<Result, []>): Promise<Result> {
  return withDeadline(client, ms, async () => {
    const handle = await client.workflow.getHandle(workflowId).startUpdate(update, { waitForStage: WorkflowUpdateStage.ACCEPTED });
    return handle.result();
  });
}

/** The first `ApplicationFailure` with a `type` in `err`'s cause chain (`err` included). */
export function applicationFailureIn(err: unknown): ApplicationFailure | undefined {
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    if (current instanceof ApplicationFailure && current.type) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * The description of workflow `workflowId` (running or closed), within a short deadline.
 *
 * @returns null when Temporal has no such workflow.
 * @throws Temporal errors other than "not found" (e.g. unreachable: 503 upstream).
 */
export async function describeWorkflow(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | null> {
  try {
    return await withDeadline(client, SHORT_CALL_DEADLINE_MS, () => client.workflow.getHandle(workflowId).describe());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * Sends `query` to workflow `workflowId` within a short deadline.
 *
 * @returns its answer, or null when the workflow does not exist, is unreachable or does
 *   not answer (`onError` is told why).
 */
export async function queryOrNull<Result>(
  client: Client,
  workflowId: string,
  query: QueryDefinition<Result, []>,
  onError: (err: unknown) => void,
): Promise<Result | null> {
  try {
    return await withDeadline(client, SHORT_CALL_DEADLINE_MS, () => client.workflow.getHandle(workflowId).query(query));
  } catch (err) {
    onError(err);
    return null;
  }
}

/**
 * Client interceptor: every workflow start, Update, Update-with-Start, Signal and
 * Signal-with-Start made while an API request is handled carries that request's id as a
 * Temporal header (common/request-id.ts), which the workflow and its activities put into
 * their log records. Calls made outside a request carry none.
 */
export function requestIdClientInterceptor(requestId: () => string | undefined = currentRequestId): WorkflowClientInterceptor {
  return {
    start: (input, next) => next({ ...input, headers: withRequestId(input.headers, requestId()) }),
    startWithDetails: (input, next) => next({ ...input, headers: withRequestId(input.headers, requestId()) }),
    startUpdate: (input, next) => next({ ...input, headers: withRequestId(input.headers, requestId()) }),
    startUpdateWithStart: (input, next) => {
      const id = requestId();
      return next({ ...input, workflowStartHeaders: withRequestId(input.workflowStartHeaders, id), updateHeaders: withRequestId(input.updateHeaders, id) });
    },
    signal: (input, next) => next({ ...input, headers: withRequestId(input.headers, requestId()) }),
    signalWithStart: (input, next) => next({ ...input, headers: withRequestId(input.headers, requestId()) }),
  };
}

/**
 * The interceptors of the API's Temporal client: the request id always; with `tracing`,
 * OpenTelemetry's client interceptor first (a `StartWorkflow`, `UpdateWithStartWorkflow`,
 * `StartWorkflowUpdate`, `SignalWorkflow`, `QueryWorkflow`... span per call, child of the
 * request's span, its context sent in the headers). The interceptors package is loaded
 * only when `tracing` is true.
 */
export async function temporalClientInterceptors(tracing: boolean): Promise<ClientInterceptors> {
  const workflow: WorkflowClientInterceptor[] = [];
  if (tracing) {
    const { OpenTelemetryWorkflowClientInterceptor } = await import('@temporalio/interceptors-opentelemetry');
    workflow.push(new OpenTelemetryWorkflowClientInterceptor());
  }
  workflow.push(requestIdClientInterceptor());
  return { workflow };
}

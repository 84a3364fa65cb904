/**
 * Workflow interceptors (not a workflow): the request id of the API call that started or
 * last reached the saga (its start, an Update, a Signal) goes into the attributes of the
 * workflow's log records and, as a header, to every activity it schedules, normal or
 * local. The worker always bundles this module (worker/worker.ts `workflowInterceptorModules`).
 *
 * Deterministic: the id comes from the history (the start's and the messages' headers);
 * it changes no command, only log attributes and activity headers, so histories recorded
 * without this module replay unchanged.
 */
import type {
  ActivityInput,
  LocalActivityInput,
  Next,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { REQUEST_ID_LOG_ATTRIBUTE, requestIdOf, withRequestId } from '../common/request-id.ts';

/** Called by the workflow runtime once per workflow execution: the state is that execution's. */
export const interceptors = (): WorkflowInterceptors => {
  let requestId: string | undefined;
  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input, next) {
      requestId = requestIdOf(input.headers);
      return next(input);
    },
    handleUpdate(input, next) {
      requestId = requestIdOf(input.headers) ?? requestId;
      return next(input);
    },
    handleSignal(input, next) {
      requestId = requestIdOf(input.headers) ?? requestId;
      return next(input);
    },
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    getLogAttributes(input, next) {
      return next(requestId === undefined ? input : { ...input, [REQUEST_ID_LOG_ATTRIBUTE]: requestId });
    },
    scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
      return next({ ...input, headers: withRequestId(input.headers, requestId) });
    },
    scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>) {
      return next({ ...input, headers: withRequestId(input.headers, requestId) });
    },
  };
  return { inbound: [inbound], outbound: [outbound] };
};

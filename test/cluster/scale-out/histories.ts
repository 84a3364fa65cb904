/**
 * What the histories of the scale-out suite's sagas say about the worker that was killed:
 * which sagas it had in flight at the kill, what the server did about them (workflow task
 * timeouts, local activities run again) and which worker finished them. Workers are told
 * apart by their identity, the SDK's default `<pid>@<host>`.
 */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

/** One saga's history as far as the kill is concerned. */
export interface SagaTrace {
  workflowId: string;
  /** Identity of every worker that started one of its workflow or activity tasks. */
  identities: Set<string>;
  /** Identity of the worker that completed its last workflow task (the one that closed it). */
  closedBy: string | undefined;
  /** When it closed, ms epoch. */
  closedAt: number;
  /** When the killed worker last started one of its tasks, ms epoch (undefined: never). */
  lastStartedByKilled: number | undefined;
  /** Workflow tasks that timed out (start-to-close: the worker died holding it; schedule-to-start: a dead worker's sticky queue). */
  workflowTaskTimeouts: number;
  /** Local activities (markers) and activities that ended on an attempt after the first. */
  retriedActivities: number;
}

function identityOf(event: temporal.api.history.v1.IHistoryEvent): string | undefined {
  return event.workflowTaskStartedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity ?? undefined;
}

/** Reads the history of `workflowId` and traces it against the worker whose identity starts with `killedPrefix`. */
export async function traceSaga(client: Client, workflowId: string, killedPrefix: string): Promise<SagaTrace> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const trace: SagaTrace = {
    workflowId,
    identities: new Set(),
    closedBy: undefined,
    closedAt: 0,
    lastStartedByKilled: undefined,
    workflowTaskTimeouts: 0,
    retriedActivities: 0,
  };
  const startedBy = new Map<string, string>();
  for (const event of history.events ?? []) {
    const at = event.eventTime ? tsToMs(event.eventTime) : 0;
    const identity = identityOf(event);
    if (identity) {
      trace.identities.add(identity);
      startedBy.set(String(event.eventId), identity);
      if (identity.startsWith(killedPrefix)) trace.lastStartedByKilled = at;
    }
    const completed = event.workflowTaskCompletedEventAttributes;
    if (completed) trace.closedBy = startedBy.get(String(completed.startedEventId)) ?? completed.identity ?? undefined;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) trace.workflowTaskTimeouts++;
    const started = event.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) trace.retriedActivities++;
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (data && (JSON.parse(Buffer.from(data).toString('utf8')) as { attempt: number }).attempt > 1) trace.retriedActivities++;
    if (
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED ||
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED ||
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    ) {
      trace.closedAt = at;
    }
  }
  return trace;
}

/**
 * The sagas the kill cut off from the worker whose identity starts with `killedPrefix`:
 * it had started one of their tasks, they closed after `killedAt`, and not by its hand (a
 * workflow task it completed in the last milliseconds before the signal still counts as
 * its own).
 */
export function inFlightOnKilled(traces: SagaTrace[], killedAt: number, killedPrefix: string): SagaTrace[] {
  return traces.filter((t) => t.lastStartedByKilled !== undefined && t.closedAt > killedAt && !t.closedBy?.startsWith(killedPrefix));
}

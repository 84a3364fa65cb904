/**
 * Where a saga's time goes, from its workflow history: every event, plus the time each
 * local activity was scheduled (recorded in its marker), put on one timeline; the time
 * between consecutive points is labelled by what happened in between (e.g.
 * `WorkflowTaskScheduled → WorkflowTaskStarted` is the wait for the worker to pick the
 * task up, `step reserveStock → step payWithPoints` the reserveStock local activity plus
 * the workflow code that schedules the next one) and aggregated over a sample of sagas.
 * Server and worker run on this machine: one clock.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { summarize } from './stats.ts';

/** One labelled stretch of the timeline, over the sampled sagas. */
export interface Phase {
  label: string;
  /** Sagas in which the stretch occurred. */
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
}

/** The breakdown of one level's sample. */
export interface Breakdown {
  level: string;
  sagas: number;
  phases: Phase[];
  /** Workflow start to the Update's completion (the business outcome known to the server). */
  toOutcome: Phase;
  /** The HTTP answer's latency as the load generator saw it, for the same sagas. */
  httpSaga: Phase;
}

type Point = { at: number; what: string };
type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function ms(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

function eventName(e: HistoryEvent): string {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
  return key ? key.replace(/EventAttributes$/, '').replace(/^./, (c) => c.toUpperCase()) : 'Event';
}

/** The timeline of one history. */
function timeline(events: HistoryEvent[]): Point[] {
  const points: Point[] = [];
  const activityTypes = new Map<string, string>();
  for (const e of events) {
    const at = ms(e.eventTime as Parameters<typeof ms>[0]);
    let what = eventName(e);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) activityTypes.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const ref = e.activityTaskStartedEventAttributes ?? e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (scheduled) what += ` ${scheduled.activityType?.name}`;
    else if (ref) what += ` ${activityTypes.get(String(ref.scheduledEventId)) ?? '?'}`;
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const data = marker.details?.data?.payloads?.[0]?.data;
      if (data) {
        // Only the schedule time: the marker's complete_time is not on the events' clock.
        const la = JSON.parse(Buffer.from(data).toString()) as { activity_type: string; original_schedule_time: { seconds: number; nanos: number } };
        points.push({ at: ms(la.original_schedule_time), what: `step ${la.activity_type}` });
      }
      continue;
    }
    if (marker || e.upsertWorkflowSearchAttributesEventAttributes) continue;
    points.push({ at, what });
  }
  return points.sort((a, b) => a.at - b.at);
}

function phase(label: string, values: number[]): Phase {
  const s = summarize(values);
  return { label, count: s.count, meanMs: s.mean, p50Ms: s.p50, p95Ms: s.p95 };
}

/**
 * Fetches the histories of `orders` (workflow `order-<orderId>`) and aggregates their
 * timelines. Stretches shorter than 0.05 ms on average are left out.
 */
export async function sagaBreakdown(address: string, namespace: string, level: string, orders: { orderId: string; sagaMs: number }[]): Promise<Breakdown> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const stretches = new Map<string, number[]>();
  const order: string[] = [];
  const toOutcome: number[] = [];
  const http: number[] = [];
  try {
    for (const o of orders) {
      const history = await client.workflow.getHandle(`order-${o.orderId}`).fetchHistory();
      const events = history.events ?? [];
      const points = timeline(events);
      const start = points[0]?.at ?? 0;
      const completed = events.find((e) => e.workflowExecutionUpdateCompletedEventAttributes);
      if (completed) toOutcome.push(ms(completed.eventTime as Parameters<typeof ms>[0]) - start);
      http.push(o.sagaMs);
      for (let i = 1; i < points.length; i++) {
        const label = `${points[i - 1]!.what} → ${points[i]!.what}`;
        if (!stretches.has(label)) {
          stretches.set(label, []);
          order.push(label);
        }
        stretches.get(label)!.push(points[i]!.at - points[i - 1]!.at);
      }
    }
  } finally {
    await connection.close();
  }
  return {
    level,
    sagas: orders.length,
    phases: order.map((label) => phase(label, stretches.get(label)!)).filter((p) => p.meanMs >= 0.05),
    toOutcome: phase('workflow started → outcome (Update completed)', toOutcome),
    httpSaga: phase('HTTP request → answer (load generator)', http),
  };
}

/** Markdown of a breakdown. */
export function breakdownMarkdown(b: Breakdown): string {
  const rows = [b.httpSaga, b.toOutcome, ...b.phases].map(
    (p) => `| ${p.label} | ${p.count} | ${p.meanMs} | ${p.p50Ms} | ${p.p95Ms} |`,
  );
  return [
    `### Where the time goes: ${b.level} (${b.sagas} sagas from their histories)`,
    '',
    '| stretch | sagas | mean ms | p50 ms | p95 ms |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

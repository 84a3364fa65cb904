/**
 * What crash-worker.test.ts reads to follow its sagas: the worker's statements waiting
 * behind a test's row lock, the point ledger and order rows of each saga (straight from
 * the database), and which worker recorded each step in a workflow's history.
 */
import type pg from 'pg';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { blockedBehind, type BlockedBackend, type RowLocker } from '../../helpers/row-locks.ts';
import { pollUntil } from '../../helpers/waiting.ts';
import { orderList, workflowIdOf, type Saga } from './sagas.ts';

const EventType = temporal.api.enums.v1.EventType;

/**
 * Resolves once, for every saga, at least `min` statements `statement(saga)` wait behind
 * `locker`, and returns everything waiting behind it. (At least, not exactly: a step
 * blocked longer than its 15 s start-to-close timeout is retried beside its abandoned
 * attempt, which keeps waiting; a cancelled payment attempt keeps waiting too.)
 *
 * @throws Error after 60 s, with what waits at that moment.
 */
export async function waitForEach(db: pg.Client, locker: RowLocker, sagas: Saga[], statement: (s: Saga) => string, min = 1): Promise<BlockedBackend[]> {
  let waiting: BlockedBackend[] = [];
  try {
    await pollUntil(`${sagas.length} sagas to wait behind locker ${locker.pid}`, async () => {
      waiting = await blockedBehind(db, locker);
      return sagas.every((s) => waiting.filter((b) => b.query === statement(s)).length >= min);
    }, { intervalMs: 50 });
  } catch (err) {
    throw new Error(`${(err as Error).message}; waiting now: ${JSON.stringify(waiting.map((b) => b.query))}`, { cause: err });
  }
  return waiting;
}

/** Ledger movements per saga reference (workflow id): kind -> [amounts in points]. */
export type LedgerByReference = Map<string, Record<string, number[]>>;

/** An order's status, cancellation reason and reservation line statuses (by product id), per order id. */
export type OrderStatuses = Map<string, { status: string; reason: string | null; lines: string[] }>;

/** The {@link LedgerByReference} of `sagas`. */
export async function ledgerByReference(db: pg.Client, sagas: Saga[]): Promise<LedgerByReference> {
  const refs = sagas.map(workflowIdOf);
  const { rows } = await db.query<{ reference: string; kind: string; amount_points: number }>(
    'select reference, kind, amount_points from point_ledger where reference = any($1) order by id',
    [refs],
  );
  const byRef = new Map<string, Record<string, number[]>>(refs.map((r) => [r, {}]));
  for (const row of rows) (byRef.get(row.reference)![row.kind] ??= []).push(row.amount_points);
  return byRef;
}

/** The {@link OrderStatuses} of `sagas`. */
export async function orderStatuses(db: pg.Client, sagas: Saga[]): Promise<OrderStatuses> {
  const { rows } = await db.query<{ id: string; status: string; cancellation_reason: string | null; lines: string[] }>(
    `select o.id, o.status, o.cancellation_reason,
            array(select r.status from stock_reservations r where r.order_id = o.id order by r.product_id) as lines
     from orders o where o.id = any($1::uuid[])`,
    [orderList(sagas)],
  );
  return new Map(rows.map((r) => [r.id, { status: r.status, reason: r.cancellation_reason, lines: r.lines }]));
}

/** One recorded result of a step in a workflow's history: who ran it, at which attempt. */
export interface StepRun {
  identity: string;
  attempt: number;
}

/**
 * The recorded results (completed or failed) of every step in a workflow's history, by
 * activity type: for a remote step, the worker and attempt of its ActivityTaskStarted;
 * for a local step, its marker's attempt and the worker that completed the workflow task
 * recording it. Also how many workflow tasks timed out (a worker died holding one).
 */
export async function stepRuns(client: Client, workflowId: string): Promise<{ runs: Record<string, StepRun[]>; workflowTaskTimeouts: number }> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  const typeOf = (scheduledEventId: unknown) => byId.get(String(scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
  const runs: Record<string, StepRun[]> = {};
  let workflowTaskTimeouts = 0;
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) workflowTaskTimeouts += 1;
    const ended = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
    if (ended) {
      const started = byId.get(String(ended.startedEventId))?.activityTaskStartedEventAttributes;
      (runs[typeOf(ended.scheduledEventId)] ??= []).push({ identity: started?.identity ?? '?', attempt: started?.attempt ?? 0 });
    }
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const payload = marker.details?.data?.payloads?.[0]?.data;
      const data = payload ? (JSON.parse(Buffer.from(payload).toString()) as { activity_type: string; attempt: number }) : undefined;
      const task = byId.get(String(marker.workflowTaskCompletedEventId))?.workflowTaskCompletedEventAttributes;
      (runs[data?.activity_type ?? '?'] ??= []).push({ identity: task?.identity ?? '?', attempt: data?.attempt ?? 0 });
    }
  }
  return { runs, workflowTaskTimeouts };
}

/**
 * Data-platform delivery check: the event of every CONFIRMED saga was received exactly
 * once, and no event was received for a saga that is not CONFIRMED.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { confirmedEventId } from '../common/ids.ts';
import { plural } from './report.ts';
import type { ResolvedScope } from './scope.ts';
import { json, rows, sagasWhere, sql, within } from './sql.ts';
import {
  result,
  sagaIds,
  type CheckResult,
  type InvariantNote,
  type InvariantOptions,
  type SagaKind,
  type Violation,
} from './types.ts';

const CHECK = 'data-platform-delivery';

/** How many times the data platform received each event id. */
type ReceivedCounts = Map<string, number>;

/**
 * `data-platform-delivery`; skipped when `options` gives no received events. With
 * `allowInFlight`, a missing event whose delivery is PENDING or not started is a note.
 */
export async function dataPlatformDelivery(em: EntityManager, scope: ResolvedScope | undefined, options: InvariantOptions): Promise<CheckResult> {
  if (!options.receivedEvents && !options.deliveredEventIds) {
    return { ...result(CHECK, []), skipped: 'no data-platform events given' };
  }
  const received = receivedCounts(options);
  const { violations, notes } = await confirmedSagaEvents(em, scope, received, options.allowInFlight ?? false);
  violations.push(...(await strayEvents(em, scope, received)));
  return result(CHECK, violations, notes);
}

function receivedCounts(options: InvariantOptions): ReceivedCounts {
  const received: ReceivedCounts = new Map();
  for (const e of options.receivedEvents ?? []) received.set(e.eventId, (received.get(e.eventId) ?? 0) + 1);
  for (const id of options.deliveredEventIds ?? []) if (!received.has(id)) received.set(id, 1);
  return received;
}

interface Delivery {
  eventId: string;
  status: string;
  attempts: number;
}

/** The event of each CONFIRMED saga in scope was received once (or is in flight, when allowed). */
async function confirmedSagaEvents(
  em: EntityManager,
  scope: ResolvedScope | undefined,
  received: ReceivedCounts,
  allowInFlight: boolean,
): Promise<{ violations: Violation[]; notes: InvariantNote[] }> {
  const confirmed = sagasWhere(
    sql`status = 'CONFIRMED' and ${within('id', scope?.orders, 'uuid')}`,
    sql`status = 'CONFIRMED' and ${within('id', scope?.reservations, 'uuid')}`,
  );
  const sagas = await rows<{ kind: SagaKind; id: string; workflow_id: string; deliveries: Delivery[] }>(
    em,
    sql`select s.kind, s.id, s.workflow_id,
               coalesce((select jsonb_agg(jsonb_build_object('eventId', d.event_id, 'status', d.status, 'attempts', d.attempts))
                         from data_platform_deliveries d where d.saga_id = s.workflow_id), '[]'::jsonb) as deliveries
        from ${confirmed} s
        order by s.kind, s.id`,
  );
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const saga of sagas) {
    const eventId = confirmedEventId(saga.workflow_id);
    const ids = { ...sagaIds(saga.kind, saga.id), eventId };
    const times = received.get(eventId) ?? 0;
    if (times === 1) continue;
    if (times > 1) {
      violations.push({ check: CHECK, rule: 'an event is received once', ids, expected: 'received once', found: `received ${times} times` });
      continue;
    }
    const delivery = saga.deliveries.find((d) => d.eventId === eventId);
    if (allowInFlight && (!delivery || delivery.status === 'PENDING')) {
      notes.push({ check: CHECK, kind: 'in-flight', ids, detail: delivery ? `delivery PENDING after ${plural(delivery.attempts, 'attempt')}` : 'delivery not started yet' });
      continue;
    }
    violations.push({
      check: CHECK,
      rule: `the event of a CONFIRMED ${saga.kind} reaches the data platform`,
      ids,
      expected: 'received once',
      found: `not received (delivery ${delivery ? `${delivery.status} after ${plural(delivery.attempts, 'attempt')}` : 'never attempted'})`,
    });
  }
  return { violations, notes };
}

/**
 * Received events of sagas that are not CONFIRMED (in scope), and, unscoped, events of no
 * saga at all. Each event's saga is found by the workflow id its event id is built from.
 */
async function strayEvents(em: EntityManager, scope: ResolvedScope | undefined, received: ReceivedCounts): Promise<Violation[]> {
  const suffix = confirmedEventId('');
  const workflowIds = [...received.keys()].filter((id) => id.endsWith(suffix)).map((id) => id.slice(0, -suffix.length));
  const byWorkflowId = sql`workflow_id in (select jsonb_array_elements_text(${json(workflowIds)}::jsonb))`;
  const sagas = await rows<{ kind: SagaKind; id: string; status: string; workflow_id: string }>(
    em,
    sql`select s.kind, s.id, s.status, s.workflow_id from ${sagasWhere(byWorkflowId, byWorkflowId)} s`,
  );
  const byWorkflow = new Map(sagas.map((s) => [s.workflow_id, s]));
  const inScope = scope ? new Set([...scope.orders, ...scope.reservations]) : undefined;
  const violations: Violation[] = [];
  for (const eventId of [...received.keys()].sort()) {
    const saga = eventId.endsWith(suffix) ? byWorkflow.get(eventId.slice(0, -suffix.length)) : undefined;
    if (!saga) {
      if (!inScope) violations.push({ check: CHECK, rule: 'an event belongs to a CONFIRMED saga', ids: { eventId }, expected: 'an order or reservation with this event', found: 'none' });
      continue;
    }
    if (inScope && !inScope.has(saga.id)) continue;
    if (saga.status !== 'CONFIRMED') {
      violations.push({
        check: CHECK,
        rule: 'an event belongs to a CONFIRMED saga',
        ids: { ...sagaIds(saga.kind, saga.id), eventId },
        expected: `${saga.kind} CONFIRMED`,
        found: `${saga.kind} ${saga.status}`,
      });
    }
  }
  return violations;
}

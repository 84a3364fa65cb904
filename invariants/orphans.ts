/**
 * Orphan check: a PENDING order or reservation past its deadline has a saga that can still
 * close it. The rows are the ones the reconciliation (workflows/reconciliation.ts) looks
 * at, read with the same SQL (db/orphans.ts); the stray effects it reports are the
 * existing checks' violations (stock-lines-match-orders, seats-have-one-live-holder,
 * payments-belong-to-live-or-confirmed-sagas).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { DEFAULT_ORDER_GRACE_MS, DEFAULT_RESERVATION_GRACE_MS, type SagaKind } from '../common/reconciliation.ts';
import {
  pendingOrdersPastDeadline,
  pendingReservationsPastDeadline,
  type PendingOrderRow,
  type PendingReservationRow,
} from '../db/orphans.ts';
import type { ResolvedScope } from './scope.ts';
import { rows, within } from './sql.ts';
import { result, sagaIds, type CheckResult, type InvariantNote, type InvariantOptions, type Violation } from './types.ts';

const CHECK = 'pending-sagas-have-live-workflows';

/** A PENDING saga past its deadline. */
interface Overdue {
  kind: SagaKind;
  id: string;
  workflowId: string;
  deadline: string;
}

/**
 * `pending-sagas-have-live-workflows`: a PENDING order created more than the order grace
 * ago, or a PENDING reservation whose hold expired more than the reservation grace ago, is
 * a violation unless its workflow still runs. With `options.workflowStates` (a Temporal
 * lookup) a running workflow makes it an `in-flight` note and the violation names the
 * workflow's state (closed or MISSING); without it every such row is a violation by age.
 */
export async function pendingSagasHaveLiveWorkflows(
  em: EntityManager,
  scope: ResolvedScope | undefined,
  options: Pick<InvariantOptions, 'workflowStates' | 'orphanGraceMs'>,
): Promise<CheckResult> {
  const overdue = await overdueSagas(em, scope, options);
  if (overdue.length === 0) return result(CHECK, []);
  const states = options.workflowStates ? await options.workflowStates(overdue.map((o) => o.workflowId)) : undefined;
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const saga of overdue) {
    const ids = { ...sagaIds(saga.kind, saga.id), workflowId: saga.workflowId };
    const state = states?.get(saga.workflowId);
    if (state === 'RUNNING') {
      notes.push({ check: CHECK, kind: 'in-flight', ids, detail: `PENDING past its deadline (${saga.deadline}); its workflow is still running` });
      continue;
    }
    violations.push({
      check: CHECK,
      rule: `a PENDING ${saga.kind} past its deadline has a running workflow`,
      ids,
      expected: 'a running workflow, or the row closed (the reconciliation closes it)',
      found: states ? `workflow ${state ?? 'MISSING'}` : `PENDING past its deadline (${saga.deadline}; workflow not checked: no Temporal client)`,
    });
  }
  return result(CHECK, violations, notes);
}

async function overdueSagas(
  em: EntityManager,
  scope: ResolvedScope | undefined,
  options: Pick<InvariantOptions, 'orphanGraceMs'>,
): Promise<Overdue[]> {
  const orderGraceMs = options.orphanGraceMs?.order ?? DEFAULT_ORDER_GRACE_MS;
  const reservationGraceMs = options.orphanGraceMs?.reservation ?? DEFAULT_RESERVATION_GRACE_MS;
  const orders = await rows<PendingOrderRow>(em, pendingOrdersPastDeadline(orderGraceMs, within('o.id', scope?.orders, 'uuid')));
  const reservations = await rows<PendingReservationRow>(
    em,
    pendingReservationsPastDeadline(reservationGraceMs, within('r.id', scope?.reservations, 'uuid')),
  );
  return [
    ...orders.map((o) => ({ kind: 'order' as const, id: o.id, workflowId: o.workflow_id, deadline: `created over ${orderGraceMs} ms ago` })),
    ...reservations.map((r) => ({
      kind: 'reservation' as const,
      id: r.id,
      workflowId: r.workflow_id,
      deadline: `hold expired over ${reservationGraceMs} ms ago`,
    })),
  ];
}

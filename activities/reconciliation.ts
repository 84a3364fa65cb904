/**
 * The reconciliation's reads (no context: like the pivots, it reads across contexts, and
 * it writes nothing). `findOrphanedSagas` finds PENDING orders and reservations past their
 * deadline and asks Temporal about each one's workflow; `findStrayEffects` lists the
 * effects no live saga explains. The repairs themselves are the sagas' own compensations
 * (releaseStock, releaseSeats, refundPoints, cancelOrder, closeReservation), run by the
 * workflow (workflows/reconciliation.ts), so this file changes no row.
 *
 * The SQL is shared with the invariant checker (db/orphans.ts): the rows a run repairs are
 * the ones `npm run check:invariants` reports. Exceptions to the table ownership, with
 * their reasons: test/unit/table-ownership.test.ts.
 */
import { WorkflowNotFoundError } from '@temporalio/common';
import { getClient } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import {
  pendingOrdersPastDeadline,
  pendingReservationsPastDeadline,
  unexplainedSeats,
  unexplainedStockLines,
  unrefundedPayments,
  type PendingOrderRow,
  type PendingReservationRow,
  type SqlQuery,
  type UnexplainedSeatRow,
  type UnexplainedStockLineRow,
  type UnrefundedPaymentRow,
} from '../db/orphans.ts';
import type {
  OrphanedSaga,
  OrphanScan,
  ReconciliationInput,
  SagaKind,
  SagaWorkflowState,
  StrayEffects,
} from '../common/reconciliation.ts';

/** What Temporal says of each workflow id (its latest run), `MISSING` when it has none. */
export type WorkflowStateLookup = (workflowIds: string[]) => Promise<Map<string, SagaWorkflowState>>;

/** gRPC NOT_FOUND, as a client over a NativeConnection may report a missing workflow. */
const GRPC_NOT_FOUND = 5;

/**
 * The state of each workflow id's latest run through `client` (DescribeWorkflowExecution,
 * one call per id, in order): its status name, or `MISSING` when Temporal knows no such
 * workflow (never started, or removed after the namespace's retention).
 *
 * @throws whatever else the client throws (Temporal unreachable): the caller retries.
 */
export async function sagaWorkflowStates(client: Client, workflowIds: string[]): Promise<Map<string, SagaWorkflowState>> {
  const states = new Map<string, SagaWorkflowState>();
  for (const workflowId of workflowIds) {
    try {
      const described = await client.workflow.getHandle(workflowId).describe();
      states.set(workflowId, (described.status.name === 'UNSPECIFIED' ? 'MISSING' : described.status.name) as SagaWorkflowState);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) && (err as { code?: unknown }).code !== GRPC_NOT_FOUND) throw err;
      states.set(workflowId, 'MISSING');
    }
  }
  return states;
}

/** Dependencies of the reconciliation activities. */
export interface ReconciliationDeps {
  orm: Orm;
  /** How workflows are looked up; default: {@link sagaWorkflowStates} with the worker's client (activity context). */
  workflowStates?: WorkflowStateLookup;
}

/** Builds the reconciliation activities. */
export function createReconciliationActivities({ orm, workflowStates }: ReconciliationDeps) {
  const lookup: WorkflowStateLookup = workflowStates ?? ((ids) => sagaWorkflowStates(getClient(), ids));
  return {
    /**
     * The PENDING orders created more than `orderGraceMs` ago and the PENDING reservations
     * whose hold expired more than `reservationGraceMs` ago (at most `batchSize` of each,
     * oldest first), split by their workflow: closed or missing ones are orphans (with the
     * order's lines for releaseStock), running ones are left alone. Read-only, so a retry
     * just reads again.
     *
     * @throws a plain error when the database or Temporal cannot be reached (retried).
     */
    async findOrphanedSagas(input: ReconciliationInput): Promise<OrphanScan> {
      const orders = await read<PendingOrderRow>(orm, pendingOrdersPastDeadline(input.orderGraceMs, undefined, input.batchSize));
      const reservations = await read<PendingReservationRow>(
        orm,
        pendingReservationsPastDeadline(input.reservationGraceMs, undefined, input.batchSize),
      );
      const candidates: Omit<OrphanedSaga, 'workflowState'>[] = [
        ...orders.map((o) => ({ kind: 'order' as SagaKind, id: o.id, workflowId: o.workflow_id, userId: o.user_id, lines: o.lines, couponId: o.coupon_id })),
        ...reservations.map((r) => ({ kind: 'reservation' as SagaKind, id: r.id, workflowId: r.workflow_id, userId: r.user_id })),
      ];
      const states = await lookup(candidates.map((c) => c.workflowId));
      const scan: OrphanScan = { orphans: [], running: [] };
      for (const candidate of candidates) {
        const workflowState = states.get(candidate.workflowId) ?? 'MISSING';
        if (workflowState === 'RUNNING') scan.running.push(candidate.workflowId);
        else scan.orphans.push({ ...candidate, workflowState });
      }
      return scan;
    },

    /**
     * The effects no live saga explains (see {@link StrayEffects}): complete counts and
     * at most `limit` of each, for the run's report. Effects of COMPENSATION_FAILED sagas
     * are left out (parked for an operator). Read-only.
     */
    async findStrayEffects({ limit }: { limit: number }): Promise<StrayEffects> {
      const stock = (await read<UnexplainedStockLineRow>(orm, unexplainedStockLines()))
        .filter((l) => l.line_status === 'RESERVED' && l.order_status !== 'COMPENSATION_FAILED');
      const seats = (await read<UnexplainedSeatRow>(orm, unexplainedSeats()))
        .filter((s) => s.status === 'HELD' && s.reservation_status !== 'COMPENSATION_FAILED');
      const payments = await read<UnrefundedPaymentRow>(orm, unrefundedPayments(undefined, { sagaNotLive: true }));
      return {
        stockLines: {
          count: stock.length,
          items: stock.slice(0, limit).map((l) => ({ orderId: l.order_id, productId: l.product_id, quantity: l.quantity, orderStatus: l.order_status })),
        },
        heldSeats: {
          count: seats.length,
          items: seats.slice(0, limit).map((s) => ({ seatId: s.id, reservationId: s.reservation_id, reservationStatus: s.reservation_status })),
        },
        payments: {
          count: payments.length,
          items: payments.slice(0, limit).map((p) => ({
            ledgerEntryId: Number(p.ledger_id),
            reference: p.reference,
            amountPoints: Number(p.amount_points),
            sagaStatus: p.order_status ?? p.reservation_status,
          })),
        },
      };
    },
  };
}

/** Runs one read-only query on a fresh EntityManager fork (a single statement: its own snapshot). */
function read<Row extends object>(orm: Orm, query: SqlQuery): Promise<Row[]> {
  return orm.em.fork().execute<Row[]>(query.text, query.params as never[], 'all');
}

/**
 * The orders of crash-worker.test.ts: who buys what in each kill-point group, what they
 * cost, the statement each blocked step waits in, and the outcome each group must reach.
 * Also the scene the test's phases run in (kill-points.ts, checks.ts).
 */
import type pg from 'pg';
import type { Client } from '@temporalio/client';
import { orderWorkflowId } from '../../../common/ids.ts';
import type { StepActivities } from '../../../common/orders.ts';
import type { Orm } from '../../../db/orm.ts';
import { createUser } from '../../helpers/db.ts';
import type { RowLocker } from '../../helpers/row-locks.ts';

/** One order of the test: who buys what, and what must come out. */
export interface Saga {
  group: 'A' | 'B' | 'C' | 'D1' | 'D2' | 'E' | 'F';
  userId: number;
  topUp: number;
  qtyP: number;
  qtyQ: number;
  orderId?: string;
}
/** A kill point (see the file comment of crash-worker.test.ts); E finishes before the crash. */
export type Group = Saga['group'];
/** The sagas of each group. */
export type SagaGroups = Record<Group, Saga[]>;

/** Unit prices (points) of the two products every saga buys. */
export const PRICE_P = 1_000;
export const PRICE_Q = 500;
/** What a saga pays, in points. */
export const total = (s: Saga) => s.qtyP * PRICE_P + s.qtyQ * PRICE_Q;
export const workflowIdOf = (s: Saga) => orderWorkflowId(s.orderId!);
export const userList = (sagas: Saga[]) => sagas.map((s) => s.userId);
export const orderList = (sagas: Saga[]) => sagas.map((s) => s.orderId!);

/** The statement each blocked step waits in (activities/points.ts, orders.ts, inventory.ts). */
export const accountStatement = (s: Saga) => `select balance_points from point_accounts where user_id = ${s.userId} for update`; // payWithPoints, refundPoints
export const confirmStatement = (s: Saga) => `select status from orders where id = '${s.orderId}' for update`; // confirmOrder
export const releaseStatement = (s: Saga) =>
  `select product_id, quantity, status from stock_reservations where order_id = '${s.orderId}' order by product_id for update`; // releaseStock

/** How each group must end, in Temporal and in the database. */
export const EXPECTED_OUTCOME: Record<Group, { status: string; reason?: string }> = {
  A: { status: 'CONFIRMED' },
  B: { status: 'CONFIRMED' },
  E: { status: 'CONFIRMED' },
  F: { status: 'CONFIRMED' },
  C: { status: 'CANCELLED', reason: 'InsufficientPoints' },
  D1: { status: 'CANCELLED', reason: 'Cancelled' },
  D2: { status: 'CANCELLED', reason: 'Cancelled' },
};
export const isConfirmed = (s: Saga) => EXPECTED_OUTCOME[s.group].status === 'CONFIRMED';

/**
 * Creates the users of every group (C's cannot pay: 1 point), group by group in the
 * order A, B, C, D1, D2, E, F; orders are placed later (`orderId` unset).
 */
export async function makeSagas(orm: Orm): Promise<SagaGroups> {
  const make = async (group: Group, n: number, topUp: number): Promise<Saga[]> =>
    Promise.all(
      Array.from({ length: n }, async (_, i) => ({ group, userId: await createUser(orm, topUp), topUp, qtyP: 1 + (i % 3), qtyQ: 1 + (i % 2) })),
    );
  const A = await make('A', 3, 100_000);
  const B = await make('B', 3, 100_000);
  const C = await make('C', 3, 1); // cannot pay: InsufficientPoints, then compensation
  const D1 = await make('D1', 2, 100_000);
  const D2 = await make('D2', 2, 100_000);
  const E = await make('E', 2, 100_000);
  const F = await make('F', 3, 100_000);
  return { A, B, C, D1, D2, E, F };
}

/** What the phases of the test act on. */
export interface CrashScene {
  /** How the sagas run their database steps. */
  mode: StepActivities;
  /** The Temporal client the sagas run on. */
  client: Client;
  /** The test's own connection to the database, for pg_stat_activity and the checks. */
  db: pg.Client;
  /** Opens a {@link RowLocker} that the test closes in `afterAll`. */
  openLocker(): Promise<RowLocker>;
  /** Places the orders of `sagas` through the API and sets their `orderId`. */
  placeOrders(sagas: Saga[]): Promise<void>;
}

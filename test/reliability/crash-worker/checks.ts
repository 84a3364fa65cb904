/**
 * The assertions of crash-worker.test.ts: the state of the blocked sagas at the kill, and
 * after recovery every saga ended once with its group's outcome, the stock back exactly,
 * and the steps the crash cut off recorded only by the new worker.
 */
import { expect } from '@jest/globals';
import type { OrderOutcome } from '../../../common/orders.ts';
import type { DataPlatformServer } from '../../../data-platform/server.ts';
import { ledgerByReference, orderStatuses, stepRuns, type LedgerByReference, type OrderStatuses } from './observe.ts';
import { EXPECTED_OUTCOME, isConfirmed, total, userList, workflowIdOf, type CrashScene, type Group, type Saga } from './sagas.ts';

/** Ledger and order rows of the blocked sagas, as read right before the kill. */
export interface StateAtKill {
  ledger: LedgerByReference;
  statuses: OrderStatuses;
}

/** The state at the kill: effects so far are committed, the next step is not. */
export function expectStateAtKill(scene: CrashScene, blocked: Saga[], { ledger, statuses }: StateAtKill): void {
  const pending = { status: 'PENDING', reason: null, lines: ['RESERVED', 'RESERVED'] };
  for (const s of blocked) {
    const t = total(s);
    const expected = {
      A: { ledger: {}, ...pending },
      B: { ledger: { PAYMENT: [t] }, ...pending },
      C: { ledger: { REFUND: [0] }, ...pending },
      D1: { ledger: {}, ...pending },
      D2: { ledger: { PAYMENT: [t], REFUND: [t] }, ...pending },
      E: undefined,
      F: scene.mode === 'remote' ? { ledger: { PAYMENT: [t] }, ...pending } : { ledger: { PAYMENT: [t] }, status: 'CONFIRMED', reason: null, lines: ['COMMITTED', 'COMMITTED'] },
    }[s.group];
    expect({ group: s.group, ledger: ledger.get(workflowIdOf(s)), ...statuses.get(s.orderId!) }).toEqual({ group: s.group, ...expected });
  }
}

/**
 * Every saga ended once, with the outcome of its group, in Temporal (`outcomes`, by order
 * id) and in the database: order and lines, one payment and at most one refund of the
 * right amount, the balance, and one data-platform event per confirmed order.
 */
export async function expectEndedOnce(scene: CrashScene, all: Saga[], outcomes: Map<string, OrderOutcome>, dataPlatform: DataPlatformServer): Promise<void> {
  const statuses = await orderStatuses(scene.db, all);
  const ledgers = await ledgerByReference(scene.db, all);
  const balances = new Map(
    (await scene.db.query<{ user_id: number; balance_points: number }>('select user_id, balance_points from point_accounts where user_id = any($1)', [userList(all)])).rows.map(
      (r) => [r.user_id, r.balance_points],
    ),
  );
  for (const s of all) {
    const confirmed = isConfirmed(s);
    const label = { group: s.group, orderId: s.orderId };
    expect({ ...label, ...outcomes.get(s.orderId!) }).toMatchObject({ ...label, ...EXPECTED_OUTCOME[s.group], totalWon: total(s) });
    expect({ ...label, ...statuses.get(s.orderId!) }).toEqual({
      ...label,
      status: EXPECTED_OUTCOME[s.group].status,
      reason: EXPECTED_OUTCOME[s.group].reason ?? null,
      lines: confirmed ? ['COMMITTED', 'COMMITTED'] : ['RELEASED', 'RELEASED'],
    });
    // Exactly one payment per paying saga, at most one refund, each of the right amount;
    // a saga that never paid has the 0-point tombstone that refuses a late payment.
    const expectedLedger = confirmed ? { PAYMENT: [total(s)] } : s.group === 'D2' ? { PAYMENT: [total(s)], REFUND: [total(s)] } : { REFUND: [0] };
    expect({ ...label, ledger: ledgers.get(workflowIdOf(s)) }).toEqual({ ...label, ledger: expectedLedger });
    expect({ ...label, balance: balances.get(s.userId) }).toEqual({ ...label, balance: confirmed ? s.topUp - total(s) : s.topUp });
    const events = dataPlatform.events().filter((e) => e.eventId === `${workflowIdOf(s)}:confirmed`);
    expect({ ...label, events: events.length }).toEqual({ ...label, events: confirmed ? 1 : 0 });
  }
}

/** Stock back exactly: of the 1,000 units of each product, only the confirmed orders took some. */
export async function expectStockBack(scene: CrashScene, all: Saga[], productP: number, productQ: number): Promise<void> {
  const sold = (pick: (s: Saga) => number) => all.filter(isConfirmed).reduce((n, s) => n + pick(s), 0);
  const { rows: stock } = await scene.db.query<{ id: number; stock: number }>('select id, stock from products where id = any($1) order by id', [[productP, productQ]]);
  expect(stock).toEqual([
    { id: productP, stock: 1_000 - sold((s) => s.qtyP) },
    { id: productQ, stock: 1_000 - sold((s) => s.qtyQ) },
  ]);
}

/**
 * The crash really cut those steps off: each one's only recorded result came from the
 * new worker (process `newWorkerPid`), after a retry of the activity (remote) or after the
 * dead worker's workflow task timed out (local). F: what the first worker did was never reported.
 */
export async function expectCutOff(scene: CrashScene, blocked: Saga[], newWorkerPid: number): Promise<void> {
  const { mode } = scene;
  const cutOff: Record<Exclude<Group, 'E'>, string[]> = {
    A: ['payWithPoints'],
    B: ['confirmOrder'],
    C: ['releaseStock'],
    D1: ['refundPoints'],
    D2: ['releaseStock'],
    F: mode === 'local' ? ['payWithPoints', 'confirmOrder'] : ['payWithPoints'],
  };
  const newWorker = new RegExp(`^${newWorkerPid}@`);
  for (const s of blocked) {
    const { runs, workflowTaskTimeouts } = await stepRuns(scene.client, workflowIdOf(s));
    const label = { group: s.group, orderId: s.orderId };
    for (const step of cutOff[s.group as Exclude<Group, 'E'>]) {
      const recorded = runs[step] ?? [];
      expect({ ...label, step, runs: recorded.length, byNewWorker: recorded.every((r) => newWorker.test(r.identity)) }).toEqual({ ...label, step, runs: 1, byNewWorker: true });
      if (mode === 'remote') expect({ ...label, step, retried: recorded[0]!.attempt >= 2 }).toEqual({ ...label, step, retried: true });
    }
    if (mode === 'local') expect({ ...label, workflowTaskTimedOut: workflowTaskTimeouts >= 1 }).toEqual({ ...label, workflowTaskTimedOut: true });
  }
}

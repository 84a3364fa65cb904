/**
 * Drives the sagas of crash-worker.test.ts to their kill points (see that file's comment)
 * with row locks the test holds, each phase waiting for the worker's statements to queue
 * behind a lock rather than sleeping.
 */
import { cancellationSeen } from '../../helpers/temporal.ts';
import type { RowLocker } from '../../helpers/row-locks.ts';
import type { TcpRelay } from '../../helpers/tcp-relay.ts';
import { pollUntil } from '../../helpers/waiting.ts';
import { ledgerByReference, orderStatuses, stepRuns, waitForEach } from './observe.ts';
import {
  accountStatement,
  confirmStatement,
  orderList,
  releaseStatement,
  userList,
  workflowIdOf,
  type CrashScene,
  type Saga,
  type SagaGroups,
} from './sagas.ts';

/** Where the sagas stand at the kill. */
export interface KillPoints {
  /** The lockers the dead worker's statements still wait behind, to release after the kill (A, D1, B+C, D2). */
  held: RowLocker[];
  /** How long after the cancellation request the workflows of D had processed it, in ms. */
  cancellationMs: number;
}

/**
 * Finishes E, then brings A, B, C, D1, D2 and F to their kill points, in an order that
 * lets each one be observed; `relay` (the first worker's way to Temporal) ends frozen.
 */
export async function driveToKillPoints(scene: CrashScene, groups: SagaGroups, relay: TcpRelay): Promise<KillPoints> {
  const { A, B, C, D1, D2, E, F } = groups;
  // E: finish before the crash.
  await scene.placeOrders(E);
  await Promise.all(E.map((s) => scene.client.workflow.getHandle(workflowIdOf(s)).result()));

  const d = await cancelDuringPayment(scene, D1, D2);

  // A, B, C, F reach payWithPoints and wait on their account rows.
  const payLockA = await scene.openLocker();
  const payLockBC = await scene.openLocker();
  const payLockF = await scene.openLocker();
  await payLockA.lock('point_accounts', userList(A));
  await payLockBC.lock('point_accounts', userList([...B, ...C]));
  await payLockF.lock('point_accounts', userList(F));
  await scene.placeOrders([...A, ...B, ...C, ...F]);
  await waitForEach(scene.db, payLockA, A, accountStatement);
  await waitForEach(scene.db, payLockBC, [...B, ...C], accountStatement);
  await waitForEach(scene.db, payLockF, F, accountStatement);

  const orderLock = await payThenBlockOrders(scene, B, C, payLockBC);
  // D: wait until the workflows have processed the cancellation.
  const cancellationMs = await d.processed;
  const orderLockD2 = await letAbandonedPaymentThrough(scene, D2, d.payLockD2);
  await commitUnreported(scene, F, relay, payLockF);
  return { held: [payLockA, d.payLockD1, orderLock, orderLockD2], cancellationMs };
}

/**
 * D1, D2: wait in payWithPoints on their account rows, and are cancelled there. The
 * workflow (with local steps: at its next workflow-task heartbeat) cancels the payment
 * and compensates: refundPoints queues behind the abandoned payment attempt.
 * Resolves once both attempts wait; `processed` resolves with the ms until the workflows
 * had processed the cancellation (a workflow task completed after the request).
 */
async function cancelDuringPayment(scene: CrashScene, D1: Saga[], D2: Saga[]): Promise<{ payLockD1: RowLocker; payLockD2: RowLocker; processed: Promise<number> }> {
  const payLockD1 = await scene.openLocker();
  const payLockD2 = await scene.openLocker();
  await payLockD1.lock('point_accounts', userList(D1));
  await payLockD2.lock('point_accounts', userList(D2));
  await scene.placeOrders([...D1, ...D2]);
  await waitForEach(scene.db, payLockD1, D1, accountStatement);
  await waitForEach(scene.db, payLockD2, D2, accountStatement);
  const cancelledAt = Date.now();
  await Promise.all([...D1, ...D2].map((s) => scene.client.workflow.getHandle(workflowIdOf(s)).cancel()));
  const processed = Promise.all([...D1, ...D2].map((s) => cancellationSeen(scene.client.workflow.getHandle(workflowIdOf(s))))).then(() => Date.now() - cancelledAt);
  await waitForEach(scene.db, payLockD1, D1, accountStatement, 2);
  await waitForEach(scene.db, payLockD2, D2, accountStatement, 2);
  return { payLockD1, payLockD2, processed };
}

/**
 * B, C: hold B's order rows and C's stock lines, then let the payment through (release
 * `payLockBC`). B pays and waits in confirmOrder; C is refused, refundPoints leaves its
 * tombstone, and releaseStock waits. Resolves with the locker once C's refusals are recorded.
 */
async function payThenBlockOrders(scene: CrashScene, B: Saga[], C: Saga[], payLockBC: RowLocker): Promise<RowLocker> {
  const orderLock = await scene.openLocker();
  await orderLock.lock('orders', orderList(B));
  await orderLock.lock('stock_reservations', orderList(C));
  await payLockBC.release();
  await waitForEach(scene.db, orderLock, B, confirmStatement);
  await waitForEach(scene.db, orderLock, C, releaseStatement);

  // C: the refusal is in the history before the crash (with local steps, recorded by the
  // next workflow-task heartbeat). A refusal the crash loses is not re-decided the same
  // way: the re-run payment meets the refund's tombstone, and the order is cancelled with
  // reason SagaAlreadyCompensated instead of InsufficientPoints.
  await pollUntil('the refusals of C to be recorded', async () => {
    const recorded = await Promise.all(C.map(async (s) => (await stepRuns(scene.client, workflowIdOf(s))).runs.payWithPoints?.length === 1));
    return recorded.every(Boolean);
  }, { intervalMs: 200 });
  return orderLock;
}

/** D2: let the abandoned payment through; it commits, the refund follows, releaseStock waits behind the returned locker (the stock lines). */
async function letAbandonedPaymentThrough(scene: CrashScene, D2: Saga[], payLockD2: RowLocker): Promise<RowLocker> {
  const orderLockD2 = await scene.openLocker();
  await orderLockD2.lock('stock_reservations', orderList(D2));
  await payLockD2.release();
  await waitForEach(scene.db, orderLockD2, D2, releaseStatement);
  await pollUntil('the payments of D2 to be refunded', async () => {
    const ledger = await ledgerByReference(scene.db, D2);
    return D2.every((s) => ledger.get(workflowIdOf(s))!.REFUND?.length === 1);
  });
  return orderLockD2;
}

/**
 * F: cut the worker off from Temporal, then let the payment commit; what follows is
 * never reported. With local steps the pivot runs in the same workflow task and commits too.
 */
async function commitUnreported(scene: CrashScene, F: Saga[], relay: TcpRelay, payLockF: RowLocker): Promise<void> {
  relay.freeze();
  await payLockF.release();
  await pollUntil('the payments of F to commit', async () => {
    const ledger = await ledgerByReference(scene.db, F);
    const statuses = await orderStatuses(scene.db, F);
    return F.every(
      (s) => ledger.get(workflowIdOf(s))!.PAYMENT?.length === 1 && (scene.mode === 'remote' || statuses.get(s.orderId!)?.status === 'CONFIRMED'),
    );
  });
}

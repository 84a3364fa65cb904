/**
 * Records one workflow history per saga path into test/histories/, for the replay test
 * (test/integration/replay.test.ts). Run it when a saga changes on purpose, commit the
 * new files next to the old ones (old histories keep guarding running workflows):
 *
 *   node test/tools/record-histories.ts [label] [path ...]
 *
 * With paths (`order-confirmed`, `reservation-compensation-failed-then-retried`, ...) it
 * records only those. Sagas started through the client here are given the search
 * attributes the API gives (common/saga.ts `sagaStartSearchAttributes`), except
 * `order-unknown-user`, started without any, as another client might: the saga upserts
 * its ids itself then (workflows/observability.ts).
 * It starts the in-process test stack (real Temporal dev server, test database, mock
 * data platform) and drives each path through the API or the client. It never builds
 * the Temporal CLI: run `npm test` or `node scripts/ensure-temporal-cli.ts` once first.
 */
import { randomUUID } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ORDER_CHECKOUT_WORKFLOW, orderWorkflowId, reservationWorkflowId, topUpWorkflowId } from '../../common/ids.ts';
import { sagaStartSearchAttributes } from '../../common/saga.ts';
import {
  cancelReservationSignal,
  payReservationUpdate,
  reservationCancelUpdate,
  reservationProgressQuery,
  retryReservationCompensationsUpdate,
} from '../../common/reservations.ts';
import { createPerformance, createProduct, createUser } from '../helpers/db.ts';
import { couponFor, type TestCampaign } from '../helpers/order-coupons.ts';
import { holdSeats, reservationInput } from '../helpers/reservations.ts';
import { callApi, refundFailsFor, startStack, type TestStack } from '../helpers/stack.ts';
import { testTemporalCli } from '../helpers/temporal.ts';

const label = process.argv[2] ?? 'v1';
const only = process.argv.slice(3);
const wanted = (path: string) => only.length === 0 || only.includes(path);
const outDir = fileURLToPath(new URL('../histories/', import.meta.url));
const brokenRefundUsers = new Set<number>();
/** Users whose next payment fails for a reason of ours (not a business rejection). */
const failingPayers = new Set<number>();
/** Users whose payment waits (until cancelled, or released) so the recorder can cancel the saga there. */
const heldPayers = new Map<number, { reached: () => void; release: Promise<void> }>();
/** A user id no point account has: the first step of a saga refuses it. */
const UNKNOWN_USER = 2_000_000_000;

const stack: TestStack = await startStack({
  activityOverrides: (real) => ({
    ...refundFailsFor(brokenRefundUsers, real),
    async payWithPoints(input) {
      if (failingPayers.delete(input.userId)) throw ApplicationFailure.nonRetryable('connection to the database lost', 'ConnectionLost');
      const held = heldPayers.get(input.userId);
      if (held) {
        held.reached();
        await Promise.race([held.release, Context.current().cancelled]);
      }
      return real.payWithPoints(input);
    },
  }),
});

const cli = await testTemporalCli(stack.config);

/** Waits for the workflow to close and writes its history as the CLI's proto3 JSON. */
async function save(name: string, workflowId: string): Promise<void> {
  // A cancelled saga may end as cancelled: its history is recorded all the same.
  await stack.env.client.workflow.getHandle(workflowId).result().catch(() => undefined);
  const { stdout } = await promisify(execFile)(
    cli,
    ['workflow', 'show', '--workflow-id', workflowId, '--namespace', stack.config.temporal.namespace, '--address', stack.env.address, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  await writeFile(`${outDir}${label}-${name}.json`, stdout);
  process.stdout.write(`recorded ${label}-${name}\n`);
}

async function order(name: string, userBalance: number, stock: number, quantity: number, before?: (userId: number) => void) {
  const productId = await createProduct(stack.orm, stock, 1_000);
  const userId = await createUser(stack.orm, userBalance);
  before?.(userId);
  const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity }] });
  const orderId = res.body.orderId ?? res.body.order?.orderId;
  return { orderId, userId, workflowId: orderWorkflowId(orderId) };
}

/**
 * An order of one 1,000-won unit, by a user with `balance` points, naming a coupon of a
 * campaign with `terms` issued to its owner (`other`: another user's; `missing`: an id no
 * coupon has), started through the client as the API starts it.
 */
async function couponOrder(balance: number, terms: TestCampaign & { owner?: 'other' | 'missing'; used?: boolean } = {}) {
  const productId = await createProduct(stack.orm, 10, 1_000);
  const userId = await createUser(stack.orm, balance);
  const owner = terms.owner === 'other' ? await createUser(stack.orm, 0) : userId;
  const couponId = terms.owner === 'missing' ? 2_000_000_000 : await couponFor(stack.orm, owner, terms);
  if (terms.used) await stack.orm.em.fork().execute(`update coupons set status = 'USED', order_id = ? where id = ?`, [randomUUID(), couponId]);
  const orderId = randomUUID();
  const start = () =>
    stack.env.client.workflow.start(ORDER_CHECKOUT_WORKFLOW, {
      workflowId: orderWorkflowId(orderId),
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ orderId, userId, items: [{ productId, quantity: 1 }], requestHash: 'record', stepActivities: 'local', couponId }],
      typedSearchAttributes: sagaStartSearchAttributes({ orderId, userId }),
    });
  return { orderId, userId, workflowId: orderWorkflowId(orderId), start };
}

/** The order saga's paths with a coupon (patch `order-coupon-step`). */
async function recordCouponOrders(): Promise<void> {
  const paths: [string, number, Parameters<typeof couponOrder>[1]][] = [
    ['order-coupon-confirmed', 10_000, { discountType: 'PERCENT', discountValue: 10 }],
    ['order-coupon-not-found', 10_000, { owner: 'missing' }],
    ['order-coupon-not-owned', 10_000, { owner: 'other' }],
    ['order-coupon-already-used', 10_000, { used: true }],
    ['order-coupon-expired', 10_000, { opensInS: -7_200, closesInS: -60 }],
    ['order-coupon-minimum-not-met', 10_000, { minOrderWon: 5_000 }],
    // The coupon is reserved, then the payment is refused: refund tombstone, coupon released, stock released.
    ['order-coupon-insufficient-points', 500, { discountValue: 100 }],
  ];
  for (const [path, balance, terms] of paths) {
    if (!wanted(path)) continue;
    const o = await couponOrder(balance, terms);
    await o.start();
    await save(path, o.workflowId);
  }
  if (wanted('order-coupon-cancelled')) {
    // Cancelled while paying, after the coupon was reserved: every compensation runs. The
    // steps run as local activities in one workflow task, so the cancellation reaches the
    // saga only with the task's next heartbeat (about 8 s): the payment waits for it.
    const o = await couponOrder(10_000, { discountValue: 300 });
    let reached!: () => void;
    const atPayment = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    heldPayers.set(o.userId, { reached, release: new Promise<void>((resolve) => (release = resolve)) });
    await o.start();
    await atPayment;
    await stack.env.client.workflow.getHandle(o.workflowId).cancel();
    setTimeout(release, 30_000).unref();
    await save('order-coupon-cancelled', o.workflowId);
    heldPayers.delete(o.userId);
  }
}

/** Waits until the reservation saga's progress says `status`. */
async function waitForStatus(workflowId: string, status: string): Promise<void> {
  const handle = stack.env.client.workflow.getHandle(workflowId);
  while ((await handle.query(reservationProgressQuery)).status !== status) await new Promise((r) => setTimeout(r, 100));
}

function reserve(userId: number, performanceId: number, seatIds: number[], holdMs: number) {
  return holdSeats(stack, reservationInput(userId, performanceId, seatIds, holdMs, 'record'));
}

try {
  await mkdir(outDir, { recursive: true });
  if (wanted('order-confirmed')) await save('order-confirmed', (await order('confirmed', 10_000, 10, 2)).workflowId);
  if (wanted('order-out-of-stock')) await save('order-out-of-stock', (await order('oos', 10_000, 1, 2)).workflowId);
  if (wanted('order-insufficient-points')) await save('order-insufficient-points', (await order('nsf', 1_000, 10, 2)).workflowId);

  if (wanted('order-compensation-failed-then-retried')) {
    const parked = await order('parked', 1_000, 10, 2, (userId) => brokenRefundUsers.add(userId));
    brokenRefundUsers.delete(parked.userId);
    await callApi(stack, 'POST', `/orders/${parked.orderId}/compensations/retry`);
    await save('order-compensation-failed-then-retried', parked.workflowId);
  }

  const { performanceId, seatIds } = await createPerformance(stack.orm, 7, 10_000);
  if (wanted('reservation-confirmed-after-top-up')) {
    const payer = await createUser(stack.orm, 5_000);
    const paid = await reserve(payer, performanceId, [seatIds[0]!], 60_000);
    const handle = stack.env.client.workflow.getHandle(reservationWorkflowId(paid.reservationId));
    await handle.executeUpdate(payReservationUpdate).catch(() => undefined); // InsufficientPoints: hold kept
    await callApi(stack, 'POST', `/users/${payer}/points/top-ups`, { amount: 10_000 });
    await handle.executeUpdate(payReservationUpdate);
    await save('reservation-confirmed-after-top-up', handle.workflowId);
  }

  const idle = await createUser(stack.orm, 0);
  if (wanted('reservation-expired')) {
    const expired = await reserve(idle, performanceId, [seatIds[1]!], 1_000);
    await save('reservation-expired', reservationWorkflowId(expired.reservationId));
  }

  if (wanted('reservation-cancelled')) {
    // Through the reservationCancel Update, as DELETE /reservations/:id sends it (v1-v4: the Signal).
    const cancelled = await reserve(idle, performanceId, [seatIds[2]!], 60_000);
    await stack.env.client.workflow.getHandle(reservationWorkflowId(cancelled.reservationId)).executeUpdate(reservationCancelUpdate);
    await save('reservation-cancelled', reservationWorkflowId(cancelled.reservationId));
  }

  if (wanted('reservation-paid-after-failed-payment')) {
    // The first payment fails for a reason of ours: the hold is kept and the second confirms.
    const payer = await createUser(stack.orm, 20_000);
    const paid = await reserve(payer, performanceId, [seatIds[6]!], 60_000);
    const handle = stack.env.client.workflow.getHandle(reservationWorkflowId(paid.reservationId));
    failingPayers.add(payer);
    await handle.executeUpdate(payReservationUpdate).catch(() => undefined);
    await handle.executeUpdate(payReservationUpdate);
    await save('reservation-paid-after-failed-payment', handle.workflowId);
  }

  if (wanted('reservation-unknown-user')) {
    // createReservation refuses the user; the saga still closes the (absent) row.
    const refused = await holdSeats(stack, reservationInput(UNKNOWN_USER, performanceId, [seatIds[0]!], 60_000, 'record'));
    await save('reservation-unknown-user', reservationWorkflowId(refused.reservationId));
  }

  if (wanted('order-unknown-user')) {
    // createOrder refuses the user (the API would have refused first); the saga still closes the (absent) row.
    const orderId = randomUUID();
    const productId = await createProduct(stack.orm, 10, 1_000);
    await stack.env.client.workflow.start(ORDER_CHECKOUT_WORKFLOW, {
      workflowId: orderWorkflowId(orderId),
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ orderId, userId: UNKNOWN_USER, items: [{ productId, quantity: 1 }], requestHash: 'record', stepActivities: 'local' }],
    });
    await save('order-unknown-user', orderWorkflowId(orderId));
  }

  await recordCouponOrders();

  if (wanted('reservation-seat-unavailable')) {
    const holder = await reserve(idle, performanceId, [seatIds[3]!], 60_000);
    const refused = await reserve(idle, performanceId, [seatIds[3]!, seatIds[4]!], 60_000);
    await save('reservation-seat-unavailable', reservationWorkflowId(refused.reservationId));
    await stack.env.client.workflow.getHandle(reservationWorkflowId(holder.reservationId)).signal(cancelReservationSignal);
  }

  if (wanted('reservation-compensation-failed-then-retried')) {
    // A payment attempt registers the refund; the refund then fails for good and the
    // reservation parks in COMPENSATION_FAILED until the operator's retry.
    const broke = await createUser(stack.orm, 0);
    const parked = await reserve(broke, performanceId, [seatIds[5]!], 60_000);
    const handle = stack.env.client.workflow.getHandle(reservationWorkflowId(parked.reservationId));
    await handle.executeUpdate(payReservationUpdate).catch(() => undefined); // InsufficientPoints: hold kept
    brokenRefundUsers.add(broke);
    await handle.signal(cancelReservationSignal);
    await waitForStatus(handle.workflowId, 'COMPENSATION_FAILED');
    brokenRefundUsers.delete(broke);
    await handle.executeUpdate(retryReservationCompensationsUpdate);
    await save('reservation-compensation-failed-then-retried', handle.workflowId);
  }

  if (wanted('points-top-up')) {
    const topUp = await callApi(stack, 'POST', `/users/${idle}/points/top-ups`, { amount: 500 });
    await save('points-top-up', topUpWorkflowId(topUp.body.topUpId));
  }
} finally {
  await stack.close();
}

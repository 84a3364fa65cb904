/**
 * A bounded load of order checkout sagas for reliability tests, and the checks that
 * every one of them ended consistently: the invariants of docs/architecture.md, scoped to the
 * products, users and orders the load created.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { orderWorkflowId, type OrderItem, type OrderOutcome, type StepActivities } from '../../common/index.ts';
import { ORDER_CHECKOUT_WORKFLOW, type OrderCheckoutWorkflow } from '../../common/ids.ts';
import type { Orm } from '../../db/orm.ts';
import { checkInvariants, type CheckResult } from '../../invariants/index.ts';
import { createProduct, createUser, testConfig } from './db.ts';
import { awaitOutboxDelivered } from './outbox.ts';
import type { TestStack } from './stack.ts';

/** Products and users of a load, with their starting stock and balance. */
export interface LoadFixture {
  products: { id: number; initialStock: number; priceWon: number }[];
  users: { id: number; toppedUp: number }[];
}

/** One saga of the load. */
export interface PlacedOrder {
  orderId: string;
  workflowId: string;
  userId: number;
  items: OrderItem[];
  stepActivities: StepActivities;
  handle: WorkflowHandle<OrderCheckoutWorkflow>;
}

/** Creates the products (`[stock, priceWon]`) and users (balance in points) of a load. */
export async function createFixture(orm: Orm, products: [number, number][], balances: number[]): Promise<LoadFixture> {
  const fixture: LoadFixture = { products: [], users: [] };
  for (const [stock, priceWon] of products) {
    fixture.products.push({ id: await createProduct(orm, stock, priceWon), initialStock: stock, priceWon });
  }
  for (const balance of balances) fixture.users.push({ id: await createUser(orm, balance), toppedUp: balance });
  return fixture;
}

/**
 * Starts one checkout saga per entry of `orders` on the stack's task queue; does not wait.
 * `stepActivities` (default `local`, as the API starts them) says how its database steps run.
 */
export async function startOrders(
  stack: TestStack,
  orders: { userId: number; items: OrderItem[]; stepActivities?: StepActivities }[],
): Promise<PlacedOrder[]> {
  return Promise.all(
    orders.map(async ({ userId, items, stepActivities = 'local' }) => {
      const orderId = randomUUID();
      const workflowId = orderWorkflowId(orderId);
      const sorted = [...items].sort((a, b) => a.productId - b.productId);
      const handle = await stack.env.client.workflow.start<OrderCheckoutWorkflow>(ORDER_CHECKOUT_WORKFLOW, {
        workflowId,
        taskQueue: stack.config.temporal.taskQueue,
        args: [{ orderId, userId, items: sorted, requestHash: `reliability-${orderId}`, stepActivities }],
      });
      return { orderId, workflowId, userId, items: sorted, stepActivities, handle };
    }),
  );
}

/**
 * Waits for every saga to finish (notification included) and returns its outcome by order
 * id. Rejects, naming the sagas still running, when they are not all done within
 * `withinMs` (so a stuck saga fails the test with a reason instead of a test timeout).
 */
export async function outcomesOf(orders: PlacedOrder[], withinMs = 60_000): Promise<Map<string, OrderOutcome>> {
  const running = new Set(orders.map((o) => o.workflowId));
  const results = orders.map(async (o) => {
    const outcome = (await o.handle.result()) as OrderOutcome;
    running.delete(o.workflowId);
    return outcome;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${running.size} of ${orders.length} sagas still running after ${withinMs} ms: ${[...running].join(', ')}`)),
      withinMs,
    );
  });
  try {
    const all = await Promise.race([Promise.all(results), deadline]);
    return new Map(orders.map((o, i) => [o.orderId, all[i]!]));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Per activity execution of a saga, local or not: its name and the attempt that ended it
 * (1 = no retry). Normal activities from their started events; local activities from
 * their markers (one marker per result, and one per backoff longer than the local retry
 * threshold).
 */
export async function activityAttempts(order: PlacedOrder): Promise<{ activity: string; attempt: number }[]> {
  const history = await order.handle.fetchHistory();
  const names = new Map<string, string>();
  const attempts: { activity: string; attempt: number }[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) names.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) attempts.push({ activity: names.get(String(started.scheduledEventId)) ?? '?', attempt: started.attempt ?? 1 });
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (data) {
      const local = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string; attempt: number };
      attempts.push({ activity: local.activity_type, attempt: local.attempt });
    }
  }
  return attempts;
}

/**
 * Checks, in the database, how each saga of the load ended, once all ended, and returns
 * the violations (an empty list when all hold). Complements invariants/ (stock and
 * point conservation, effects of closed sagas) with what only the load knows:
 * - each order's row has the status its saga returned, CONFIRMED or CANCELLED;
 * - a CONFIRMED order has every effect exactly once: one COMMITTED stock line per order
 *   line with its quantity, one PAYMENT of its total and no refund, one DELIVERED
 *   delivery row and one event at the data platform;
 * - a CANCELLED order has none left: no RESERVED or COMMITTED stock, at most one PAYMENT
 *   and one REFUND of the same amount, no event.
 */
export async function outcomeViolations(
  stack: Pick<TestStack, 'orm' | 'dataPlatform'>,
  orders: PlacedOrder[],
  outcomes: Map<string, OrderOutcome>,
): Promise<string[]> {
  await awaitOutboxDelivered(stack.orm, orders.map((o) => o.workflowId));
  const em = stack.orm.em.fork();
  const violations: string[] = [];
  const orderIds = orders.map((o) => o.orderId);
  const rows = await em.execute<{ id: string; status: string; total_won: number }[]>(
    'select id, status, total_won from orders where id in (?)',
    [orderIds],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const stock = await em.execute<{ order_id: string; product_id: number; quantity: number; status: string }[]>(
    'select order_id, product_id, quantity, status from stock_reservations where order_id in (?)',
    [orderIds],
  );
  const ledger = await em.execute<{ reference: string; kind: string; amount_points: number }[]>(
    'select reference, kind, amount_points from point_ledger where reference in (?)',
    [orders.map((o) => o.workflowId)],
  );
  const deliveries = await em.execute<{ saga_id: string; status: string }[]>(
    'select saga_id, status from data_platform_deliveries where saga_id in (?)',
    [orders.map((o) => o.workflowId)],
  );
  const events = stack.dataPlatform.events();

  for (const order of orders) {
    const outcome = outcomes.get(order.orderId);
    const row = byId.get(order.orderId);
    const where = `order ${order.orderId}`;
    if (!row) {
      violations.push(`${where}: no order row`);
      continue;
    }
    if (row.status !== outcome?.status) violations.push(`${where}: row ${row.status}, saga ${outcome?.status}`);
    const lines = stock.filter((s) => s.order_id === order.orderId);
    const moves = ledger.filter((l) => l.reference === order.workflowId);
    const payments = moves.filter((m) => m.kind === 'PAYMENT');
    const refunds = moves.filter((m) => m.kind === 'REFUND');
    const sent = events.filter((e) => e.eventId === `${order.workflowId}:confirmed`);
    if (row.status === 'CONFIRMED') {
      for (const item of order.items) {
        const line = lines.filter((l) => l.product_id === item.productId);
        if (line.length !== 1 || line[0]!.status !== 'COMMITTED' || line[0]!.quantity !== item.quantity) {
          violations.push(`${where}: product ${item.productId} stock lines ${JSON.stringify(line)}, want one COMMITTED x${item.quantity}`);
        }
      }
      if (lines.length !== order.items.length) violations.push(`${where}: ${lines.length} stock lines for ${order.items.length} items`);
      if (payments.length !== 1 || payments[0]!.amount_points !== row.total_won || refunds.length !== 0) {
        violations.push(`${where}: confirmed with ledger ${JSON.stringify(moves)}, want one PAYMENT of ${row.total_won}`);
      }
      if (sent.length !== 1) violations.push(`${where}: confirmed, ${sent.length} events at the data platform`);
      const delivery = deliveries.filter((d) => d.saga_id === order.workflowId);
      if (delivery.length !== 1 || delivery[0]!.status !== 'DELIVERED') violations.push(`${where}: delivery rows ${JSON.stringify(delivery)}`);
    } else if (row.status === 'CANCELLED') {
      const live = lines.filter((l) => l.status !== 'RELEASED');
      if (live.length > 0) violations.push(`${where}: cancelled with stock lines ${JSON.stringify(live)}`);
      const paid = payments.reduce((s, m) => s + m.amount_points, 0);
      const refunded = refunds.reduce((s, m) => s + m.amount_points, 0);
      if (payments.length > 1 || refunds.length > 1 || paid !== refunded) {
        violations.push(`${where}: cancelled with ledger ${JSON.stringify(moves)}`);
      }
      if (sent.length !== 0) violations.push(`${where}: cancelled, yet ${sent.length} events at the data platform`);
    } else {
      violations.push(`${where}: ended ${row.status}`);
    }
  }

  return violations;
}

/**
 * Runs the invariant checker (invariants/) on the load's products, users and orders, with the events the
 * data platform received, and returns the checks that failed or were skipped (an empty
 * list when every invariant holds).
 */
export async function brokenInvariants(
  stack: Pick<TestStack, 'orm' | 'dataPlatform'>,
  fixture: LoadFixture,
  orders: PlacedOrder[],
): Promise<CheckResult[]> {
  await awaitOutboxDelivered(stack.orm, orders.map((o) => o.workflowId));
  const report = await checkInvariants(stack.orm, {
    scope: {
      productIds: fixture.products.map((p) => p.id),
      userIds: fixture.users.map((u) => u.id),
      orderIds: orders.map((o) => o.orderId),
    },
    receivedEvents: stack.dataPlatform.events(),
    // The suites' queue cap (testConfig), so the cap check runs rather than being skipped.
    queue: { activeLimit: testConfig().queue.activeLimit },
  });
  return report.checks.filter((c) => !c.passed || c.skipped);
}

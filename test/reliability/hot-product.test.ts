/**
 * A hot product under load: 300 checkouts of one unit each, posted concurrently over HTTP
 * against a product with 50 units in stock, on the whole stack (Koa API, Temporal dev
 * server, worker, PostgreSQL, mock data platform). Stock is decided in the database by a
 * conditional update, so exactly 50 orders confirm, the other 250 are cancelled for
 * OutOfStock with nothing charged, stock ends at 0 and every invariant holds, including
 * exactly-once delivery of the 50 confirmed orders to the data platform.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { orderWorkflowId } from '../../common/ids.ts';
import type { OrderOutcome } from '../../common/orders.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { balanceOf, createProduct, createUser, stockOf } from '../helpers/db.ts';
import { callApi, startStack, type TestStack } from '../helpers/stack.ts';

const STOCK = 50;
const USERS = 30;
const ORDERS_PER_USER = 10;
const PRICE_WON = 1_000;
const BALANCE = 20_000;
/** Requests in flight at once: enough to make every saga race for the same row. */
const CONCURRENCY = 50;

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** Runs `work` over `items` with at most `limit` calls in flight; results in input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The order id of a POST /orders answer: 201 and 202 bodies, or the cancelled order of an error. */
function orderIdOf(answer: { status: number; body: any }): string {
  if (answer.status === 201 || answer.status === 202) return answer.body.orderId;
  const id = answer.body?.order?.orderId;
  if (!id) throw new Error(`POST /orders answered ${answer.status} without an order: ${JSON.stringify(answer.body)}`);
  return id;
}

describe('hot product', () => {
  it('sells exactly the stock to 300 concurrent checkouts; the rest are cancelled OutOfStock with nothing charged', async () => {
    const productId = await createProduct(stack.orm, STOCK, PRICE_WON);
    const userIds: number[] = [];
    for (let i = 0; i < USERS; i++) userIds.push(await createUser(stack.orm, BALANCE));
    const buyers = userIds.flatMap((userId) => Array.from({ length: ORDERS_PER_USER }, () => userId));

    const started = Date.now();
    const answers = await mapBounded(buyers, CONCURRENCY, (userId) =>
      callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] }),
    );
    const answered = Date.now() - started;
    const statusCounts = countBy(answers.map((a) => String(a.status)));
    expect(Object.keys(statusCounts).every((s) => ['201', '202', '409'].includes(s))).toBe(true);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body.code).toBe('OutOfStock');

    const orderIds = answers.map(orderIdOf);
    expect(new Set(orderIds).size).toBe(buyers.length);
    // The whole saga, including the data-platform notification of the confirmed ones.
    const outcomes = await Promise.all(
      orderIds.map((id) => stack.env.client.workflow.getHandle(orderWorkflowId(id)).result() as Promise<OrderOutcome>),
    );
    const elapsed = Date.now() - started;

    const confirmed = outcomes.filter((o) => o.status === 'CONFIRMED');
    const cancelled = outcomes.filter((o) => o.status === 'CANCELLED');
    expect(confirmed).toHaveLength(STOCK);
    expect(cancelled).toHaveLength(buyers.length - STOCK);
    expect(countBy(cancelled.map((o) => o.reason ?? 'none'))).toEqual({ OutOfStock: buyers.length - STOCK });

    const rows = await stack.orm.em.fork().execute<{ status: string; reason: string | null; n: number }[]>(
      `select status, cancellation_reason as reason, count(*)::int as n from orders
       where id in (select jsonb_array_elements_text(?::jsonb)::uuid) group by status, cancellation_reason order by status`,
      [JSON.stringify(orderIds)],
    );
    expect(rows).toEqual([
      { status: 'CANCELLED', reason: 'OutOfStock', n: buyers.length - STOCK },
      { status: 'CONFIRMED', reason: null, n: STOCK },
    ]);
    expect(await stockOf(stack.orm, productId)).toBe(0);

    // Points: each user paid exactly for their confirmed orders, and nothing else moved.
    const confirmedIds = new Set(confirmed.map((o) => o.orderId));
    const spentByUser = new Map<number, number>();
    orderIds.forEach((id, i) => {
      if (confirmedIds.has(id)) spentByUser.set(buyers[i]!, (spentByUser.get(buyers[i]!) ?? 0) + PRICE_WON);
    });
    let total = 0;
    for (const userId of userIds) {
      const balance = await balanceOf(stack.orm, userId);
      expect(balance).toBe(BALANCE - (spentByUser.get(userId) ?? 0));
      total += balance;
    }
    expect(total).toBe(USERS * BALANCE - STOCK * PRICE_WON);
    const [movements] = await stack.orm.em.fork().execute<{ payments: number; refunds: number }[]>(
      `select count(*) filter (where kind = 'PAYMENT')::int as payments, count(*) filter (where kind = 'REFUND')::int as refunds
       from point_ledger where account_user_id in (select jsonb_array_elements_text(?::jsonb)::int)`,
      [JSON.stringify(userIds)],
    );
    expect(movements).toEqual({ payments: STOCK, refunds: 0 });

    const report = await checkInvariants(stack.orm, {
      scope: { productIds: [productId], userIds, orderIds },
      receivedEvents: stack.dataPlatform.events(),
    });
    if (!report.ok) throw new Error(`invariants broken:\n${formatInvariantReport(report)}`);
    expect(report.checks.find((c) => c.name === 'data-platform-delivery')?.skipped).toBeUndefined();

    console.log(
      `hot-product: sagas=${buyers.length} confirmed=${confirmed.length} cancelled=${cancelled.length} ` +
        `answers=${JSON.stringify(statusCounts)} answeredMs=${answered} ms=${elapsed}`,
    );
  });
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

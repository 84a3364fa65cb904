/**
 * Database connection faults between the worker and PostgreSQL, under a load of order
 * sagas whose database steps run as local activities (the API's default) and as normal
 * activities, half and half. The worker's ORM connects through a fault-injecting TCP proxy
 * (test/helpers/tcp-proxy.ts); the API and the test's checks use the database directly.
 *
 * - Connections cut (FIN and RST) while transactions are open, then every new connection
 *   refused for a few seconds: each activity fails with a transient error, is retried by
 *   its retry policy, and every saga finishes once the database is reachable again, with
 *   each effect applied once.
 * - The ambiguous commit: the connection drops right after the worker sent COMMIT, before
 *   the reply (the commit applied, the worker cannot know), or instead of sending it (it
 *   did not). The retry must then be a lookup, or the one correct first application.
 * - The silent connection: the path to the database dies without a FIN or RST while a
 *   transaction holds row locks. The server must not keep those locks (and every saga
 *   waiting on them) until TCP notices, hours later.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { setTimeout as delay } from 'node:timers/promises';
import { FailureType } from '../../common/failures.ts';
import { testConfig } from '../helpers/db.ts';
import { callApi, startStack, type TestStack } from '../helpers/stack.ts';
import type { ProxyTransaction } from '../helpers/pg-proxy-connection.ts';
import { startPgFaultProxy, type CommitDropRule, type PgFaultProxy } from '../helpers/tcp-proxy.ts';
import {
  activityAttempts,
  brokenInvariants,
  createFixture,
  outcomeViolations,
  outcomesOf,
  startOrders,
  type PlacedOrder,
} from '../helpers/order-load.ts';

let stack: TestStack;
let proxy: PgFaultProxy;

beforeAll(async () => {
  const direct = testConfig().database.url;
  const { hostname, port } = new URL(direct);
  proxy = await startPgFaultProxy({ target: { host: hostname, port: Number(port || 5432) }, record: true });
  stack = await startStack({ workerDatabaseUrl: proxy.urlFor(direct) });
});

afterAll(async () => {
  proxy?.resume();
  // Frees a worker attempt still waiting on a silent connection, so the worker can stop.
  proxy?.cutAll();
  await stack?.close();
  await proxy?.close();
});

/** How many sagas of each kind (local or normal activities) had a step that needed more than one attempt. */
async function sagasWithRetries(orders: PlacedOrder[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = { local: 0, remote: 0 };
  for (const order of orders) {
    if ((await activityAttempts(order)).some((a) => a.attempt > 1)) counts[order.stepActivities]! += 1;
  }
  return counts;
}

describe('worker database connection faults', () => {
  it('finishes every saga, each effect once, when connections are cut repeatedly and refused for seconds', async () => {
    // 20 orders for 12 units of the scarce product; the last user can pay for one order only.
    const fixture = await createFixture(stack.orm, [[12, 1_000], [200, 300]], [100_000, 100_000, 100_000, 100_000, 2_500]);
    const [scarce, plenty] = fixture.products;
    const items = [
      { productId: scarce!.id, quantity: 1 },
      { productId: plenty!.id, quantity: 2 },
    ];
    const before = proxy.stats();
    const logged = proxy.transactions().length;
    const orders = await startOrders(
      stack,
      Array.from({ length: 20 }, (_, i) => ({
        userId: fixture.users[i % fixture.users.length]!.id,
        items,
        stepActivities: i % 2 ? 'remote' : 'local',
      })),
    );

    // Faults at points of progress, so they hit sagas in the middle of their steps.
    await proxy.until((s) => s.commits >= before.commits + 10);
    const cutWithFin = proxy.cutAll();
    await proxy.until((s) => s.commits >= before.commits + 30);
    const cutWithRst = proxy.cutAll({ reset: true });
    await proxy.until((s) => s.commits >= before.commits + 50);
    proxy.refuse();
    const cutAtOutage = proxy.cutAll();
    // The outage itself lasts 3 s (longer than the first retry intervals), closing new
    // connections for half of it and resetting them for the other half.
    await Promise.all([delay(1_500), proxy.until((s) => s.refused >= before.refused + 5)]);
    proxy.refuse({ reset: true });
    await Promise.all([delay(1_500), proxy.until((s) => s.refused >= before.refused + 10)]);
    const duringOutage = proxy.stats();
    proxy.resume();
    const outcomes = await outcomesOf(orders);

    // The faults hit transactions in flight, and every kind of saga had to retry.
    expect(cutWithFin + cutWithRst + cutAtOutage).toBeGreaterThan(0);
    expect(proxy.transactions().slice(logged).filter((t) => t.end === 'cut').length).toBeGreaterThan(0);
    expect(duringOutage.refused - before.refused).toBeGreaterThanOrEqual(10);
    const retried = await sagasWithRetries(orders);
    expect(retried.local).toBeGreaterThan(0);
    expect(retried.remote).toBeGreaterThan(0);
    // No saga ended on an unexpected error (a retryable fault treated as final): only business outcomes.
    const ends = [...outcomes.values()].map((o) => (o.status === 'CONFIRMED' ? 'CONFIRMED' : `${o.status}:${o.reason}`));
    for (const end of ends) {
      expect(['CONFIRMED', `CANCELLED:${FailureType.OutOfStock}`, `CANCELLED:${FailureType.InsufficientPoints}`]).toContain(end);
    }
    const confirmed = ends.filter((e) => e === 'CONFIRMED').length;
    expect(confirmed).toBeGreaterThan(0);
    expect(confirmed).toBeLessThanOrEqual(12);

    expect(await outcomeViolations(stack, orders, outcomes)).toEqual([]);
    expect(await brokenInvariants(stack, fixture, orders)).toEqual([]);
    // What the API shows agrees with the saga and the database.
    for (const order of orders) {
      const view = await callApi(stack, 'GET', `/orders/${order.orderId}`);
      expect([view.status, view.body.status, view.body.saga?.status]).toEqual([
        200,
        outcomes.get(order.orderId)!.status,
        outcomes.get(order.orderId)!.status,
      ]);
    }
  });

  it('retries a step whose connection dropped at COMMIT: a lookup when the commit applied, the first application when not', async () => {
    const fixture = await createFixture(stack.orm, [[100, 1_000]], [1_000_000, 1_000_000]);
    const productId = fixture.products[0]!.id;
    // Which transaction is which step's (activities/): statements only that step sends.
    const steps: { activity: string; match: RegExp }[] = [
      { activity: 'createOrder', match: /insert into orders /i },
      { activity: 'reserveStock', match: /insert into stock_reservations [^\n]*\n?[^\n]*'RESERVED'/i },
      { activity: 'payWithPoints', match: /insert into point_ledger /i },
      { activity: 'confirmOrder', match: /update orders set status = 'CONFIRMED'/i },
    ];
    // Per step: first the commit that applies, then the one that does not; a rule fires at most `times` times.
    const armed = steps.flatMap(({ activity, match }) =>
      ([true, false] as const).map((forward) => {
        const rule: CommitDropRule = { match, forward, times: activity === 'createOrder' ? 1 : 2 };
        return { activity, rule, dropped: proxy.dropAtCommit(rule) };
      }),
    );
    const orders = await startOrders(
      stack,
      Array.from({ length: 12 }, (_, i) => ({
        userId: fixture.users[i % 2]!.id,
        items: [{ productId, quantity: 2 }],
        stepActivities: i % 3 ? 'local' : 'remote',
      })),
    );

    const drops = await Promise.all(armed.map(async (a) => ({ ...a, txs: await a.dropped })));
    const outcomes = await outcomesOf(orders);

    expect([...outcomes.values()].map((o) => o.status)).toEqual(orders.map(() => 'CONFIRMED'));
    const log = proxy.transactions();
    for (const { activity, rule, txs } of drops) {
      for (const tx of txs) {
        const order = orders.find((o) => tx.text.includes(o.orderId));
        expect(order).toBeDefined();
        const id = order!.orderId;
        // Transactions of this step of this saga that reached the database (the dropped one included when it applied).
        const applied = log.filter((t: ProxyTransaction) => rule.match.test(t.text) && t.text.includes(id) && appliedEnd(t));
        expect({ activity, forward: rule.forward, applied: applied.length, droppedApplied: applied.includes(tx) }).toEqual({
          activity,
          forward: rule.forward,
          applied: 1,
          droppedApplied: rule.forward,
        });
        const attempts = (await activityAttempts(order!)).filter((a) => a.activity === activity);
        expect(attempts.map((a) => a.attempt >= 2)).toEqual([true]);
      }
    }
    expect(await outcomeViolations(stack, orders, outcomes)).toEqual([]);
    expect(await brokenInvariants(stack, fixture, orders)).toEqual([]);
  });

  it('frees the row a silently dead connection held: the sagas waiting on it and the retry of its own step finish', async () => {
    const fixture = await createFixture(stack.orm, [[100, 1_000]], [1_000_000]);
    const productId = fixture.products[0]!.id;
    const userId = fixture.users[0]!.id;
    // payWithPoints locks the user's account row first; the first payment goes silent at COMMIT holding it.
    const stalled = proxy.stallAtCommit({ match: /insert into point_ledger /i, times: 1 });
    const orders = await startOrders(
      stack,
      Array.from({ length: 6 }, (_, i) => ({ userId, items: [{ productId, quantity: 1 }], stepActivities: i % 2 ? 'remote' : 'local' })),
    );
    const [silent] = await stalled;
    const victim = orders.find((o) => silent!.text.includes(o.orderId));
    expect(victim).toBeDefined();

    const outcomes = await outcomesOf(orders, 60_000);

    expect([...outcomes.values()].map((o) => o.status)).toEqual(orders.map(() => 'CONFIRMED'));
    // The silent transaction never committed; the retry of the step paid once.
    const payments = proxy.transactions().filter((t) => /insert into point_ledger /i.test(t.text) && t.text.includes(victim!.orderId));
    expect(payments.map((t) => t.end)).toEqual(['stalled', 'commit']);
    expect(await outcomeViolations(stack, orders, outcomes)).toEqual([]);
    expect(await brokenInvariants(stack, fixture, orders)).toEqual([]);
    proxy.cutAll();
  });
});

function appliedEnd(tx: ProxyTransaction): boolean {
  return tx.end === 'commit' || tx.end === 'dropped-after-commit-sent';
}

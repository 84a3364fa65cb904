/**
 * Bounded database waits (issue 12, finding 8): a saga step whose database connection
 * goes silent in the middle of its transaction (the path dies without a FIN or RST; the
 * server never answers and nothing closes) must fail and be retried within a bound set by
 * the client-side query timeout, not hang until TCP gives up (about 15 minutes) or, at
 * best, until the step's 15 s start-to-close timeout.
 *
 * The worker's ORM connects through the fault proxy (test/helpers/tcp-proxy.ts) with small
 * timeouts; the proxy swallows the COMMIT of a payment and everything after it, both ways,
 * and keeps both sockets open. The query timeout fails the COMMIT, db/orm.ts closes that
 * connection (so the pool drops it and the server's session ends), and the step's retry
 * pays once on a new connection.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { testConfig } from '../helpers/db.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startPgFaultProxy, type PgFaultProxy } from '../helpers/tcp-proxy.ts';
import { brokenInvariants, createFixture, outcomeViolations, outcomesOf, startOrders } from '../helpers/order-load.ts';

/** The worker's bounded waits in this suite, in ms: small, so the suite stays fast. */
const QUERY_TIMEOUT_MS = 2_000;
const STATEMENT_TIMEOUT_MS = 1_500;
const CONNECT_TIMEOUT_MS = 1_000;
/**
 * From the moment a connection goes silent to the saga's end: the query timeout, the
 * step's first retry (200 ms backoff) on a new connection (at most the connect timeout),
 * the rest of the saga, and slack for a loaded machine. Well under the steps' 15 s
 * start-to-close, the only other thing that would end the hung attempt.
 */
const BOUND_MS = QUERY_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 4_000;

let stack: TestStack;
let proxy: PgFaultProxy;

beforeAll(async () => {
  const direct = testConfig().database.url;
  const { hostname, port } = new URL(direct);
  proxy = await startPgFaultProxy({ target: { host: hostname, port: Number(port || 5432) }, record: true });
  stack = await startStack({
    workerDatabaseUrl: proxy.urlFor(direct),
    env: {
      DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_KEEPALIVE_DELAY_MS: '1000',
    },
  });
});

afterAll(async () => {
  // Frees a worker attempt still waiting on a silent connection (without the fix), so the worker can stop.
  proxy?.cutAll();
  await stack?.close();
  await proxy?.close();
});

describe('a silently dead database connection', () => {
  it('fails the step within the query timeout; the saga retries it on a new connection and finishes within the bound', async () => {
    const fixture = await createFixture(stack.orm, [[100, 1_000]], [100_000, 100_000]);
    const productId = fixture.products[0]!.id;
    // payWithPoints: its COMMIT goes silent, with the account row locked by the transaction.
    const stalled = proxy.stallAtCommit({ match: /insert into point_ledger /i, times: 2 });
    const orders = await startOrders(
      stack,
      fixture.users.map((user, i) => ({ userId: user.id, items: [{ productId, quantity: 1 }], stepActivities: i ? 'remote' : 'local' })),
    );
    const silent = await stalled;
    const silentAt = Date.now();

    const outcomes = await outcomesOf(orders, 60_000);
    const elapsed = Date.now() - silentAt;

    expect([...outcomes.values()].map((o) => o.status)).toEqual(['CONFIRMED', 'CONFIRMED']);
    expect(elapsed).toBeLessThan(BOUND_MS);
    // Each silent payment never committed; its retry paid once.
    for (const order of orders) {
      const payments = proxy.transactions().filter((t) => /insert into point_ledger /i.test(t.text) && t.text.includes(order.orderId));
      expect(payments.map((t) => t.end)).toEqual(['stalled', 'commit']);
    }
    expect(silent).toHaveLength(2);
    // The worker closed the silent connections itself: no session of the test database is
    // left idle in the stalled transactions (the proxy ends a server session when its client leaves).
    const [left] = await stack.orm.em.fork().execute<{ n: number }[]>(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and state like 'idle in transaction%' and query ilike 'insert into point_ledger%'`,
    );
    expect(left!.n).toBe(0);
    expect(await outcomeViolations(stack, orders, outcomes)).toEqual([]);
    expect(await brokenInvariants(stack, fixture, orders)).toEqual([]);
  });
});

/**
 * PostgreSQL crashes and comes back while 20 order sagas are in flight (database steps as
 * local activities for half of them, as normal activities for the others): the cluster that
 * serves the test database is stopped in immediate mode (every backend killed, no
 * checkpoint, crash recovery at the next start) and started again.
 *
 * This stops the database server for everything that uses it at that moment, so the file
 * keeps all of it to itself: the reliability suite runs in band (`--runInBand`), no other
 * suite of this run overlaps it, and the server is started again even when the test fails
 * (`finally` and `afterAll`). Running it beside other test runs on the same server makes
 * those fail.
 *
 * The sagas are stopped inside their transactions at the moment of the crash: the test
 * holds row locks (one product's row, one user's point account), so reserveStock and
 * payWithPoints wait in an open transaction, and the crash kills them there.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { FailureType } from '../../common/failures.ts';
import { testConfig } from '../helpers/db.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { activityAttempts, brokenInvariants, createFixture, outcomeViolations, outcomesOf, startOrders } from '../helpers/order-load.ts';

const run = promisify(execFile);

/** The Debian/Ubuntu cluster (`pg_lsclusters`) listening on the test database's port. */
interface Cluster {
  version: string;
  name: string;
  host: string;
  port: number;
}

async function clusterServing(databaseUrl: string): Promise<Cluster> {
  const { hostname, port } = new URL(databaseUrl);
  const wanted = Number(port || 5432);
  const { stdout } = await run('pg_lsclusters', ['--no-header']).catch((err: Error) => {
    throw new Error(`pg-restart needs pg_lsclusters/pg_ctlcluster (Debian's postgresql-common): ${err.message}`);
  });
  const line = stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((cols) => Number(cols[2]) === wanted);
  if (!line) throw new Error(`No PostgreSQL cluster listens on port ${wanted}:\n${stdout}`);
  return { version: line[0]!, name: line[1]!, host: hostname, port: wanted };
}

function pgCtl(cluster: Cluster, ...args: string[]): Promise<unknown> {
  return run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, ...args]);
}

async function accepting(cluster: Cluster): Promise<boolean> {
  try {
    await run('pg_isready', ['-q', '-h', cluster.host, '-p', String(cluster.port)]);
    return true;
  } catch {
    return false;
  }
}

/** Starts the cluster when it is down and returns once it accepts connections. */
async function ensureRunning(cluster: Cluster): Promise<void> {
  if (!(await accepting(cluster))) {
    await pgCtl(cluster, 'start').catch(() => undefined);
  }
  for (let i = 0; !(await accepting(cluster)); i++) {
    if (i >= 300) throw new Error(`PostgreSQL ${cluster.version}/${cluster.name} did not accept connections within 60 s`);
    await delay(200);
  }
}

/** Backends of the test database waiting for a lock (the worker's activities behind our row locks). */
async function lockWaiters(client: pg.Client, database: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`,
    [database],
  );
  return rows[0]!.n;
}

let stack: TestStack;
let cluster: Cluster;

beforeAll(async () => {
  const url = testConfig().database.url;
  cluster = await clusterServing(url);
  await ensureRunning(cluster);
  stack = await startStack();
});

afterAll(async () => {
  if (cluster) await ensureRunning(cluster);
  await stack?.close();
});

describe('PostgreSQL restart in immediate mode', () => {
  it('finishes all 20 sagas in flight with every invariant intact once the database is back', async () => {
    const url = testConfig().database.url;
    const database = new URL(url).pathname.slice(1);
    // Group A: 10 orders of 1 unit of an 8-unit product (two go OutOfStock).
    // Group B: 10 orders of 1,000 points from a user with 6,000 (four are refused: InsufficientPoints).
    const fixture = await createFixture(stack.orm, [[8, 1_000], [100, 1_000]], [100_000, 100_000, 6_000]);
    const [scarce, plenty] = fixture.products;
    const [userA1, userA2, userB] = fixture.users;

    // Hold the rows: group A waits in reserveStock (product row), group B in payWithPoints (account row).
    const locker = new pg.Client({ connectionString: url, application_name: 'pg-restart-locker' });
    locker.on('error', () => undefined); // the crash kills this connection: that is expected
    await locker.connect();
    await locker.query('begin');
    await locker.query('select id from products where id = $1 for no key update', [scarce!.id]);
    await locker.query('select user_id from point_accounts where user_id = $1 for no key update', [userB!.id]);

    const groupA = await startOrders(
      stack,
      Array.from({ length: 10 }, (_, i) => ({
        userId: (i % 2 ? userA1 : userA2)!.id,
        items: [{ productId: scarce!.id, quantity: 1 }],
        stepActivities: i % 2 ? 'local' : 'remote',
      })),
    );
    const groupB = await startOrders(
      stack,
      Array.from({ length: 10 }, (_, i) => ({
        userId: userB!.id,
        items: [{ productId: plenty!.id, quantity: 1 }],
        stepActivities: i % 2 ? 'local' : 'remote',
      })),
    );
    const orders = [...groupA, ...groupB];

    // The worker's pool has 10 connections: wait until 8 of its transactions wait behind our locks.
    const watcher = new pg.Client({ connectionString: url, application_name: 'pg-restart-watcher' });
    watcher.on('error', () => undefined);
    await watcher.connect();
    let blocked = 0;
    for (let polls = 0; (blocked = await lockWaiters(watcher, database)) < 8; polls++) {
      if (polls >= 600) throw new Error(`only ${blocked} of the worker's transactions wait behind the test's row locks after 30 s`);
      await delay(50);
    }

    try {
      await pgCtl(cluster, 'stop', '-m', 'immediate');
      expect(await accepting(cluster)).toBe(false);
      await pgCtl(cluster, 'start');
    } finally {
      await ensureRunning(cluster);
    }

    const outcomes = await outcomesOf(orders, 90_000);

    const ends = (group: typeof orders) =>
      group.map((o) => outcomes.get(o.orderId)!).map((o) => (o.status === 'CONFIRMED' ? 'CONFIRMED' : `${o.status}:${o.reason}`));
    expect(count(ends(groupA))).toEqual({ CONFIRMED: 8, [`CANCELLED:${FailureType.OutOfStock}`]: 2 });
    expect(count(ends(groupB))).toEqual({ CONFIRMED: 6, [`CANCELLED:${FailureType.InsufficientPoints}`]: 4 });
    // Each transaction the crash killed was retried: at least as many sagas retried a step as were blocked.
    const retried = await Promise.all(orders.map(async (o) => (await activityAttempts(o)).some((a) => a.attempt > 1)));
    expect(retried.filter(Boolean).length).toBeGreaterThanOrEqual(blocked);

    expect(await outcomeViolations(stack, orders, outcomes)).toEqual([]);
    expect(await brokenInvariants(stack, fixture, orders)).toEqual([]);
    await locker.end().catch(() => undefined);
    await watcher.end().catch(() => undefined);
  });
});

function count(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

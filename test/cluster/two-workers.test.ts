/**
 * Scale-out on the real Temporal server (PostgreSQL persistence and visibility, started by
 * `npm run test:cluster`): two worker processes poll the same task queue while orders and
 * seat reservations arrive through a real API process; one worker is SIGKILLed in the
 * middle of the load. The other one finishes every saga exactly once: each order and
 * reservation ends as planned, nothing is charged, refunded or released twice, the
 * invariants hold, and the outbox delivers each confirmed saga's event once.
 *
 * So that the kill always lands on sagas in flight, the first worker starts alone and
 * takes four orders whose payment waits on account rows the test holds locked; the second
 * worker starts, the load runs through both, and the first worker is killed once a third
 * of the load has been answered (the locks are released right after). Those four sagas,
 * and whatever else the dead worker was running or had cached (its sticky queue), go to
 * the survivor after the server's workflow task timeout (10 s).
 *
 * Parts: the cluster (TEST_TEMPORAL_ADDRESS), PostgreSQL (test database), the mock data
 * platform in this process, the API and both workers as child processes
 * (test/helpers/processes.ts). Skipped without TEST_TEMPORAL_ADDRESS (plain `npm test`):
 * what it shows is the real server's behaviour.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pg from 'pg';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { OrderOutcome } from '../../common/orders.ts';
import type { ReservationResult } from '../../common/reservations.ts';
import { loadConfig, type AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { createPerformance, openTestOrm, seatStates, testConfig } from '../helpers/db.ts';
import { createFixture, outcomeViolations, type PlacedOrder } from '../helpers/order-load.ts';
import { awaitOutboxDelivered } from '../helpers/outbox.ts';
import { killAllParts, type Part } from '../helpers/parts.ts';
import { envFor, startApiProcess, startWorkerProcess, type ApiPart } from '../helpers/processes.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { inFlightOnKilled, traceSaga } from './scale-out/histories.ts';
import { sendLoad, type LoadRequest, type OrderRequest, type SentRequest } from './scale-out/load.ts';

/** Orders and reservations of the load, and its concurrent HTTP clients. */
const ORDERS = 60;
const RESERVATIONS = 12;
const CLIENTS = 8;
/** Orders whose payment waits on a held account row when the first worker is killed. */
const BLOCKED = 4;
/** The first worker is killed once this many requests of the load were answered. */
const KILL_AFTER = Math.floor((ORDERS + RESERVATIONS) / 3);

const onCluster = Boolean(loadConfig().testTemporal.address);
const logger = pino({ level: 'warn' });
let env: TestWorkflowEnvironment;
let dataPlatform: DataPlatformServer;
let config: AppConfig;
let orm: Orm;
let observer: pg.Client;
let locker: RowLocker;
let api: ApiPart | undefined;
const workers: Part[] = [];

beforeAll(async () => {
  if (!onCluster) return;
  env = await startTestTemporal(testConfig());
  dataPlatform = createDataPlatformServer({ logger });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  config = testConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TASK_QUEUE: uniqueTaskQueue('scale-out'),
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
    // Blocked payments hold pooled connections inside their transactions.
    DATABASE_POOL_MAX: '20',
  });
  orm = await openTestOrm(config);
  observer = new pg.Client({ connectionString: config.database.url });
  await observer.connect();
  locker = await RowLocker.open(config.database.url);
});

afterAll(async () => {
  if (!onCluster) return;
  for (const part of [...workers, api]) await part?.stop(10_000);
  await killAllParts();
  await locker?.close();
  await observer?.end();
  await dataPlatform?.close();
  await orm?.close();
  await env?.teardown();
});

/** The load's requests: orders (a fifth refused for want of points, one in fifteen for want of stock) with a reservation every sixth request. */
function planLoad(fixture: Awaited<ReturnType<typeof createFixture>>, performanceId: number, seatIds: number[]): LoadRequest[] {
  const [p, q, soldOut] = fixture.products;
  const rich = fixture.users.filter((u) => u.toppedUp > 0).slice(BLOCKED + RESERVATIONS);
  const poor = fixture.users.filter((u) => u.toppedUp === 0);
  const holders = fixture.users.filter((u) => u.toppedUp > 0).slice(BLOCKED, BLOCKED + RESERVATIONS);
  const requests: LoadRequest[] = [];
  let reservations = 0;
  for (let i = 0; i < ORDERS; i++) {
    const refused = i % 5 === 4;
    const soldOutOrder = i % 15 === 7;
    const items = [{ productId: p!.id, quantity: 1 + (i % 2) }, { productId: (soldOutOrder ? soldOut : q)!.id, quantity: 1 }];
    const user = refused ? poor[i % poor.length]! : rich[i % rich.length]!;
    requests.push({ kind: 'order', userId: user.id, items: items.sort((a, b) => a.productId - b.productId), plan: refused || soldOutOrder ? 'CANCELLED' : 'CONFIRMED' });
    if (i % 5 === 2 && reservations < RESERVATIONS) {
      const r = reservations++;
      requests.push({ kind: 'reservation', userId: holders[r]!.id, performanceId, seatIds: seatIds.slice(2 * r, 2 * r + 2), plan: r % 4 === 3 ? 'CANCELLED' : 'CONFIRMED' });
    }
  }
  return requests;
}

const describeOnCluster = onCluster ? describe : describe.skip;

describeOnCluster('two workers on the real Temporal server, one SIGKILLed mid-load', () => {
  it('the survivor finishes every saga exactly once: outcomes as planned, invariants hold, events delivered once', async () => {
    const started = Date.now();
    // Products P, Q (stock for all) and a sold-out one; blocked, reservation, rich and poor users.
    const fixture = await createFixture(orm, [[10_000, 1_000], [10_000, 500], [0, 700]], [
      ...Array<number>(BLOCKED + RESERVATIONS + 12).fill(1_000_000),
      ...Array<number>(4).fill(0),
    ]);
    const { performanceId, seatIds } = await createPerformance(orm, 2 * RESERVATIONS, 10_000);
    const target = { apiUrl: '', orm, config };

    // The first worker alone takes the blocked orders.
    workers.push(await startWorkerProcess(envFor(config), 'worker#1'));
    api = await startApiProcess(envFor(config), 'api');
    target.apiUrl = api.url;
    const blockedUsers = fixture.users.slice(0, BLOCKED).map((u) => u.id);
    await locker.lock('point_accounts', blockedUsers);
    const blockedRequests: OrderRequest[] = blockedUsers.map((userId) => ({ kind: 'order', userId, items: [{ productId: fixture.products[0]!.id, quantity: 1 }], plan: 'CONFIRMED' }));
    const blockedSent = sendLoad(target, blockedRequests, BLOCKED);
    await waitForBlocked(observer, locker, { count: BLOCKED, query: /point_accounts/ });

    // The second worker joins; the load runs through both; the first dies a third of the way in.
    workers.push(await startWorkerProcess(envFor(config), 'worker#2'));
    const [killed, survivor] = workers as [Part, Part];
    let killedAt = 0;
    const sent = await sendLoad(target, planLoad(fixture, performanceId, seatIds), CLIENTS, async (answered) => {
      if (answered !== KILL_AFTER) return;
      killedAt = Date.now();
      expect((await killed.kill('SIGKILL')).signal).toBe('SIGKILL');
      await locker.release();
    });
    const loadAnsweredMs = Date.now() - killedAt;
    const all: SentRequest[] = [...(await blockedSent), ...sent];

    // Every saga ends as planned, once.
    const results = new Map<string, string>();
    await Promise.all(
      all.map(async (s) => {
        const result = (await env.client.workflow.getHandle(s.workflowId).result()) as OrderOutcome | ReservationResult;
        results.set(s.workflowId, result.status);
      }),
    );
    expect(all.map((s) => `${s.workflowId} ${results.get(s.workflowId)}`)).toEqual(all.map((s) => `${s.workflowId} ${s.plan}`));

    const orders = all.filter((s) => s.kind === 'order');
    const placed: PlacedOrder[] = orders.map((o) => ({ orderId: o.id, workflowId: o.workflowId, userId: o.userId, items: o.items, stepActivities: 'local', handle: env.client.workflow.getHandle(o.workflowId) }));
    const orderOutcomes = new Map(orders.map((o) => [o.id, { status: results.get(o.workflowId) } as OrderOutcome]));
    // One PAYMENT per confirmed order, none left on a cancelled one, one delivered event each.
    expect(await outcomeViolations({ orm, dataPlatform }, placed, orderOutcomes)).toEqual([]);

    const reservations = all.filter((s) => s.kind === 'reservation');
    await awaitOutboxDelivered(orm, reservations.map((r) => r.workflowId));
    const events = dataPlatform.events();
    for (const r of reservations) {
      const seats = await seatStates(orm, r.seatIds);
      const want = r.plan === 'CONFIRMED' ? { status: 'RESERVED', reservationId: r.id } : { status: 'AVAILABLE', reservationId: null };
      expect(seats.map((s) => ({ status: s.status, reservationId: s.reservationId }))).toEqual(r.seatIds.map(() => want));
      expect(events.filter((e) => e.eventId === `${r.workflowId}:confirmed`)).toHaveLength(r.plan === 'CONFIRMED' ? 1 : 0);
    }
    const report = await checkInvariants(orm, {
      scope: {
        productIds: fixture.products.map((p) => p.id),
        userIds: fixture.users.map((u) => u.id),
        orderIds: orders.map((o) => o.id),
        performanceIds: [performanceId],
        reservationIds: reservations.map((r) => r.id),
      },
      receivedEvents: events,
    });
    expect(formatInvariantReport(report)).toMatch(/all invariants hold$/);

    // The kill landed on sagas in flight, and the survivor closed each of them.
    const killedPrefix = `${killed.pid}@`;
    const traces = await Promise.all(all.map((s) => traceSaga(env.client, s.workflowId, killedPrefix)));
    const cutOff = inFlightOnKilled(traces, killedAt, killedPrefix);
    expect(cutOff.length).toBeGreaterThanOrEqual(BLOCKED);
    for (const t of cutOff) expect(t.closedBy).toMatch(new RegExp(`^${survivor.pid}@`));
    const timeouts = traces.reduce((n, t) => n + t.workflowTaskTimeouts, 0);
    const retried = traces.reduce((n, t) => n + t.retriedActivities, 0);
    // When the last saga closed, by the server's clock (same machine).
    const finishedMs = Math.max(...traces.map((t) => t.closedAt)) - killedAt;
    const byBoth = traces.filter((t) => [...t.identities].some((i) => i.startsWith(killedPrefix)) && [...t.identities].some((i) => i.startsWith(`${survivor.pid}@`)));

    const confirmed = all.filter((s) => s.plan === 'CONFIRMED').length;
    process.stderr.write(
      `two-workers (cluster ${env.address}): ${all.length} sagas (${orders.length} orders, ${reservations.length} reservations; ` +
        `${confirmed} CONFIRMED, ${all.length - confirmed} CANCELLED); killed worker#1 after ${KILL_AFTER} answers; ` +
        `${cutOff.length} sagas in flight on it at the kill (${byBoth.length} ran on both workers), ${timeouts} workflow task timeouts, ` +
        `${retried} activities retried; load answered ${(loadAnsweredMs / 1000).toFixed(1)} s and every saga closed ` +
        `${(finishedMs / 1000).toFixed(1)} s after the kill; ${Math.round((Date.now() - started) / 1000)} s in all\n`,
    );
  }, 600_000);
});

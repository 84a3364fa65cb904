/**
 * The Temporal server dies under load (SIGKILL, then in a second round SIGTERM) and is
 * started again on the same SQLite file and port: every saga resumes and finishes, orders
 * CONFIRMED or CANCELLED consistently, each short hold expires exactly once, and the
 * invariants hold. The worker and the API are child processes that stay up through the
 * outage; they must reconnect by themselves.
 *
 * Per round: 20 orders (8 of them waiting in payWithPoints on a row lock the test holds
 * when the server dies, 5 users without enough points), 5 seat holds of 2-3 s that expire
 * while the server is down, and the data platform slow (3 s) so notifications are in
 * flight. The test releases the lock while the server is down (the payments commit, their
 * completions cannot be reported) and restarts the server once every hold has expired.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { orderWorkflowId, reservationWorkflowId } from '../../common/ids.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { createPerformance, createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { callApi } from '../helpers/stack.ts';
import { uniqueTaskQueue } from '../helpers/temporal.ts';
import { killAllParts, type Part } from '../helpers/parts.ts';
import { envFor, startApiProcess, startWorkerProcess, type ApiPart } from '../helpers/processes.ts';
import { TemporalServerProcess } from '../helpers/temporal-server.ts';
import { freePort, pollUntil } from '../helpers/waiting.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';
import { awaitOutboxDelivered } from '../helpers/outbox.ts';

const NAMESPACE = 'sagas-restart';
const logger = pino({ level: 'warn' });
let dir: string;
let server: TemporalServerProcess;
let dataPlatform: DataPlatformServer;
let config: AppConfig;
let orm: Orm;
let observer: pg.Client;
let connection: Connection;
let client: Client;
let worker: Part;
let api: ApiPart;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'temporal-restart-'));
  server = new TemporalServerProcess({ dbFile: path.join(dir, 'temporal.db'), port: await freePort(), namespace: NAMESPACE });
  await server.start();
  dataPlatform = createDataPlatformServer({ logger });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  config = testConfig({
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TASK_QUEUE: uniqueTaskQueue('temporal-restart'),
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
    ORDER_OUTCOME_WAIT_MS: '1500',
    DATABASE_POOL_MAX: '40',
  });
  orm = await openTestOrm(config);
  observer = new pg.Client({ connectionString: config.database.url });
  await observer.connect();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: NAMESPACE });
  worker = await startWorkerProcess(envFor(config), 'worker');
  api = await startApiProcess(envFor(config), 'api');
});

afterAll(async () => {
  await api?.stop(5_000);
  await worker?.stop(10_000);
  await connection?.close();
  await server?.kill('SIGKILL').catch(() => undefined);
  await killAllParts();
  await observer?.end();
  await dataPlatform?.close();
  await orm?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface OrderCase {
  userId: number;
  topUp: number;
  quantity: number;
  blocked: boolean;
  orderId?: string;
}

const PRICE = 1_000;

async function orderRows(orderIds: string[]) {
  const { rows } = await observer.query<{ id: string; status: string; reason: string | null; lines: string[]; payments: number; refunds: number; paid: number }>(
    `select o.id, o.status, o.cancellation_reason as reason,
            array(select r.status from stock_reservations r where r.order_id = o.id) as lines,
            (select count(*)::int from point_ledger l where l.reference = o.workflow_id and l.kind = 'PAYMENT') as payments,
            (select count(*)::int from point_ledger l where l.reference = o.workflow_id and l.kind = 'REFUND' and l.amount_points > 0) as refunds,
            (select coalesce(sum(case l.kind when 'PAYMENT' then l.amount_points when 'REFUND' then -l.amount_points else 0 end), 0)::int
               from point_ledger l where l.reference = o.workflow_id) as paid
     from orders o where o.id = any($1::uuid[])`,
    [orderIds],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Completed activities of each type in a workflow's history. */
async function completedActivities(workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const typeById = new Map<string, string>();
  const done: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeById.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const type = typeById.get(String(completed.scheduledEventId)) ?? '?';
      done[type] = (done[type] ?? 0) + 1;
    }
  }
  return done;
}

/**
 * One round: load, kill the server with `signal` while the sagas run, restart it on the
 * same file and port, then check that everything finished exactly once.
 */
async function restartRound(signal: NodeJS.Signals): Promise<void> {
  const started = Date.now();
  const productId = await createProduct(orm, 200, PRICE);
  const orders: OrderCase[] = [];
  for (let i = 0; i < 20; i++) {
    const poor = i % 4 === 3; // 5 of 20 cannot pay
    const topUp = poor ? 500 : 100_000;
    orders.push({ userId: await createUser(orm, topUp), topUp, quantity: 1 + (i % 3), blocked: i < 10 && i !== 1 && i !== 5 });
  }
  const blocked = orders.filter((o) => o.blocked);
  const { performanceId, seatIds } = await createPerformance(orm, 10, 10_000);
  const holders = await Promise.all(Array.from({ length: 5 }, () => createUser(orm, 100_000)));

  const locker = await RowLocker.open(config.database.url);
  try {
    await locker.lock('point_accounts', blocked.map((o) => o.userId));
    dataPlatform.updateSettings({ latencyMs: 3_000 });

    const orderAnswers = await Promise.all(
      orders.map((o) => callApi({ apiUrl: api.url }, 'POST', '/orders', { userId: o.userId, items: [{ productId, quantity: o.quantity }] })),
    );
    orderAnswers.forEach((res, i) => {
      expect([201, 202, 422]).toContain(res.status);
      orders[i]!.orderId = res.body.orderId ?? res.body.order?.orderId;
    });
    // The holds last: they must still run when the server dies.
    const holdAnswers = await Promise.all(
      holders.map((userId, i) =>
        callApi({ apiUrl: api.url, orm, config }, 'POST', '/reservations', { userId, performanceId, seatIds: seatIds.slice(2 * i, 2 * i + 2), holdSeconds: i < 2 ? 2 : 3 }),
      ),
    );
    for (const res of holdAnswers) expect([res.status, res.body.status]).toEqual([res.status === 202 ? 202 : 201, 'PENDING']);
    const reservationIds: string[] = holdAnswers.map((r) => r.body.reservationId);

    await waitForBlocked(observer, locker, { count: blocked.length, query: /from point_accounts where user_id = \d+ for update/ });
    await pollUntil('every hold to be taken', async () => {
      const { rows } = await observer.query('select 1 from seats where performance_id = $1 and status = $2', [performanceId, 'HELD']);
      return rows.length === 10;
    });

    // The server dies while 8 payments wait, holds run and events are being sent.
    const exit = await server.kill(signal);
    // SIGTERM: the dev server shuts down by itself (an exit code), not by the fallback SIGKILL.
    if (signal === 'SIGKILL') expect(exit?.signal).toBe('SIGKILL');
    else expect(exit?.signal).not.toBe('SIGKILL');
    const killedAt = Date.now();
    // What was under way when it died: every hold, the blocked payments, undelivered events.
    const { rows: atKill } = await observer.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from reservations where id = any($1::uuid[]) group by status`,
      [reservationIds],
    );
    expect(atKill).toEqual([{ status: 'PENDING', n: reservationIds.length }]);
    const { rows: undelivered } = await observer.query<{ n: number }>(
      `select count(*)::int as n from data_platform_deliveries where saga_id = any($1) and status = 'PENDING'`,
      [orders.map((o) => orderWorkflowId(o.orderId!))],
    );
    await locker.release();
    // Down until every hold has expired, so their timers fire only after the restart.
    await pollUntil('every hold to expire', async () => {
      const { rows } = await observer.query<{ expired: boolean }>('select bool_and(hold_expires_at < now()) as expired from reservations where id = any($1::uuid[])', [reservationIds]);
      return rows[0]?.expired === true;
    });
    await server.start();
    const restartedAt = Date.now();
    dataPlatform.updateSettings({ latencyMs: 0 });

    const results = await Promise.all([
      ...orders.map((o) => client.workflow.getHandle(orderWorkflowId(o.orderId!)).result()),
      ...reservationIds.map((id) => client.workflow.getHandle(reservationWorkflowId(id)).result()),
    ]);
    const finishedAt = Date.now();
    expect(results.map((r) => (r as { status: string }).status).sort()).toEqual(
      [...orders.map((o) => (o.topUp >= o.quantity * PRICE ? 'CONFIRMED' : 'CANCELLED')), ...reservationIds.map(() => 'EXPIRED')].sort(),
    );

    // The API and the worker reconnected by themselves: a new order goes through.
    const newUser = await createUser(orm, 10_000);
    const fresh = await callApi({ apiUrl: api.url }, 'POST', '/orders', { userId: newUser, items: [{ productId, quantity: 1 }] });
    // Right after a restart the outcome may take longer than the API's wait (then 202).
    expect([201, 202]).toContain(fresh.status);
    expect(await client.workflow.getHandle(orderWorkflowId(fresh.body.orderId)).result()).toMatchObject({ status: 'CONFIRMED' });

    // Orders: each ended once, consistently with its payment and stock; the outbox relay
    // delivers the confirmed ones' events after their sagas ended.
    await awaitOutboxDelivered(orm, orders.map((o) => orderWorkflowId(o.orderId!)));
    const rows = await orderRows(orders.map((o) => o.orderId!));
    for (const o of orders) {
      const row = rows.get(o.orderId!)!;
      const canPay = o.topUp >= o.quantity * PRICE;
      const label = { orderId: o.orderId, blocked: o.blocked };
      expect({ ...label, status: row.status, reason: row.reason, lines: row.lines, payments: row.payments, refunds: row.refunds, paid: row.paid }).toEqual({
        ...label,
        status: canPay ? 'CONFIRMED' : 'CANCELLED',
        reason: canPay ? null : 'InsufficientPoints',
        lines: [canPay ? 'COMMITTED' : 'RELEASED'],
        payments: canPay ? 1 : 0,
        refunds: 0,
        paid: canPay ? o.quantity * PRICE : 0,
      });
      const events = dataPlatform.events().filter((e) => e.eventId === `${orderWorkflowId(o.orderId!)}:confirmed`);
      expect({ ...label, events: events.length }).toEqual({ ...label, events: canPay ? 1 : 0 });
    }
    const sold = orders.filter((o) => o.topUp >= o.quantity * PRICE).reduce((n, o) => n + o.quantity, 0) + 1;
    const { rows: stock } = await observer.query<{ stock: number }>('select stock from products where id = $1', [productId]);
    expect(stock[0]!.stock).toBe(200 - sold);

    // Holds: each expired once, its seats released once and free again.
    const { rows: reservations } = await observer.query<{ id: string; status: string; reason: string | null; released: boolean }>(
      'select id, status, reason, seats_released_at is not null as released from reservations where id = any($1::uuid[]) order by id',
      [reservationIds],
    );
    expect(reservations.map((r) => [r.status, r.reason, r.released])).toEqual(reservationIds.map(() => ['EXPIRED', 'HoldExpired', true]));
    const { rows: seats } = await observer.query<{ status: string; reservation_id: string | null }>(
      'select status, reservation_id from seats where performance_id = $1',
      [performanceId],
    );
    expect(seats.filter((s) => s.status !== 'AVAILABLE' || s.reservation_id !== null)).toEqual([]);
    for (const id of reservationIds) {
      const done = await completedActivities(reservationWorkflowId(id));
      expect({ id, releaseSeats: done.releaseSeats, closeReservation: done.closeReservation, payWithPoints: done.payWithPoints }).toEqual({
        id,
        releaseSeats: 1,
        closeReservation: 1,
        payWithPoints: undefined,
      });
      const described = await client.workflow.getHandle(reservationWorkflowId(id)).describe();
      expect(described.typedSearchAttributes.getAll().find((p) => p.key.name === 'SagaStatus')?.value).toBe('EXPIRED');
    }

    const report = await checkInvariants(orm, {
      scope: { productIds: [productId], userIds: [...orders.map((o) => o.userId), ...holders, newUser], performanceIds: [performanceId] },
      receivedEvents: dataPlatform.events(),
    });
    expect(formatInvariantReport(report)).toMatch(/all invariants hold$/);

    const confirmed = orders.filter((o) => o.topUp >= o.quantity * PRICE).length;
    process.stderr.write(
      `temporal-restart ${signal}: ${orders.length} orders (${confirmed} CONFIRMED, ${orders.length - confirmed} CANCELLED) + ` +
        `${reservationIds.length} holds EXPIRED; at the kill ${blocked.length} payments blocked, ${undelivered[0]!.n} events in flight; server down ${Math.round((restartedAt - killedAt) / 100) / 10} s, ` +
        `all finished ${Math.round((finishedAt - restartedAt) / 100) / 10} s after the restart, round ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
  } finally {
    await locker.close();
    dataPlatform.updateSettings({ latencyMs: 0 });
  }
}

describe('Temporal server restarted under load (same SQLite file and port)', () => {
  it('resumes and finishes every saga after a SIGKILL: orders consistent, each hold expires once, invariants hold', async () => {
    await restartRound('SIGKILL');
  });

  it('resumes and finishes every saga after a SIGTERM as well', async () => {
    await restartRound('SIGTERM');
  });
});

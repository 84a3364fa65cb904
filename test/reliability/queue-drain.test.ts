/**
 * The waiting queue drains through crashes: {@link USERS} users join one performance's
 * queue, which admits {@link ACTIVE_LIMIT} at a time (tokens active for an hour, so only
 * payments free slots); every user whose token is ACTIVE holds one seat and pays, over
 * HTTP with header `Queue-Token`, retrying the same request while the API is unreachable
 * or answers 202 / 503 (test/helpers/queue-clients.ts). Mid-drain the worker process (the
 * sagas and the admission driver) is SIGKILLed and restarted, later the API process.
 *
 * Afterwards: every user has exactly one token, EXPIRED because paid, and one CONFIRMED
 * reservation admitted by it; tokens were admitted in ticket order; and the invariant
 * checker passes (with the queue's cap of {@link ACTIVE_LIMIT}, checked from the tokens'
 * admitted/ended timestamps), also right after each crash. Admission latency after a freed
 * slot and the drain's rate are printed, not asserted (speed belongs to the benchmark).
 *
 * Real parts: a Temporal dev server (createLocal), PostgreSQL (test database), the mock
 * data platform in this process; the API and the worker as child processes.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { confirmedEventId, reservationWorkflowId } from '../../common/ids.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { checkInvariants, formatInvariantReport, QUEUE_CHECK_NAMES, type InvariantOptions } from '../../invariants/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createPerformance, openTestOrm, testConfig } from '../helpers/db.ts';
import { killAllParts, type Part } from '../helpers/parts.ts';
import { envFor, startApiProcess, startWorkerProcess, type ApiPart } from '../helpers/processes.ts';
import { bookThroughQueue, createQueueUsers, percentile, type ApiTarget, type Booked, type QueueUser } from '../helpers/queue-clients.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { pollUntil } from '../helpers/waiting.ts';
import { awaitReservationEventsDelivered } from '../helpers/outbox.ts';

const USERS = 60;
const ACTIVE_LIMIT = 5;
const PRICE_WON = 10_000;
/** Users who have paid when the worker is killed, and when the API is. */
const KILL_WORKER_AT = 15;
const KILL_API_AT = 35;
/** The queue's settings for the config and both processes: tokens outlive the test, so only payments free slots. */
const QUEUE_ENV = { QUEUE_ACTIVE_LIMIT: String(ACTIVE_LIMIT), QUEUE_ACTIVE_SECONDS: '3600' };

const logger = pino({ level: 'warn' });
let env: TestWorkflowEnvironment;
let dataPlatform: DataPlatformServer;
let config: AppConfig;
let orm: Orm;
let worker: Part;
let api: ApiPart;

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
  dataPlatform = createDataPlatformServer({ logger });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  config = testConfig({
    ...QUEUE_ENV,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TASK_QUEUE: uniqueTaskQueue('queue-drain'),
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
  });
  orm = await openTestOrm(config);
  worker = await startWorkerProcess(envFor(config, QUEUE_ENV), 'worker#1');
  api = await startApiProcess(envFor(config, QUEUE_ENV), 'api#1');
});

afterAll(async () => {
  await killAllParts();
  await dataPlatform?.close();
  await orm?.close();
  await env?.teardown();
});

/** A token row of the performance, in ticket order; instants in ms epoch. */
interface TokenRow {
  id: string;
  user_id: number;
  ticket: number;
  status: string;
  end_reason: string | null;
  admitted_ms: number | null;
  ended_ms: number | null;
}

async function tokensOf(performanceId: number): Promise<TokenRow[]> {
  return orm.em.fork().execute<TokenRow[]>(
    `select id, user_id, ticket, status, end_reason,
            (extract(epoch from admitted_at) * 1000)::bigint as admitted_ms, (extract(epoch from ended_at) * 1000)::bigint as ended_ms
     from queue_tokens where performance_id = ? order by ticket`,
    [performanceId],
  );
}

/** Fails with the report unless every invariant of `scope` holds, the queue's cap included. */
async function expectInvariants(options: InvariantOptions): Promise<void> {
  const report = await checkInvariants(orm, { ...options, queue: { activeLimit: ACTIVE_LIMIT } });
  expect(report.checks.filter((c) => (QUEUE_CHECK_NAMES as readonly string[]).includes(c.name) && c.skipped)).toEqual([]);
  if (!report.ok) throw new Error(`invariants broken:\n${formatInvariantReport(report)}`);
}

/**
 * Prints how fast the queue drained: tokens admitted per second, and each admission after
 * the first {@link ACTIVE_LIMIT} against the end that freed its slot (the k-th end frees
 * the slot of the (limit + k)-th admission).
 */
function printDrain(tokens: TokenRow[], elapsedMs: number, retries: Record<string, number>): void {
  const admitted = tokens.map((t) => t.admitted_ms!).sort((a, b) => a - b);
  const ended = tokens.map((t) => t.ended_ms!).sort((a, b) => a - b);
  const latencies = admitted.slice(ACTIVE_LIMIT).map((at, k) => at - ended[k]!);
  const spanS = (admitted.at(-1)! - admitted[0]!) / 1000;
  console.log(
    `queue drain: ${tokens.length} users in ${(elapsedMs / 1000).toFixed(1)} s (worker and API killed once each); ` +
      `${(tokens.length / spanS).toFixed(1)} tokens admitted/s; admission after a freed slot: ` +
      `p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms; ` +
      `requests sent again: ${JSON.stringify(retries)}`,
  );
}

describe('queue drain through a worker and an API crash', () => {
  it(`admits ${USERS} users ${ACTIVE_LIMIT} at a time in ticket order; each holds, pays and expires their token once`, async () => {
    const { performanceId, seatIds } = await createPerformance(orm, USERS, PRICE_WON);
    const userIds = await createQueueUsers(orm, USERS, 5 * PRICE_WON);
    const users: QueueUser[] = await Promise.all(userIds.map(async (userId, i) => ({ userId, token: await tokenFor(userId), seatId: seatIds[i]! })));
    const scope = { performanceIds: [performanceId], userIds };
    const target: ApiTarget = { url: api.url, retries: {} };

    const started = Date.now();
    let paid = 0;
    const failures: unknown[] = [];
    const clients = users.map((user) => bookThroughQueue(target, user, performanceId).then(
      (booked) => {
        paid += 1;
        return booked;
      },
      (err: unknown) => {
        failures.push(err);
        throw err;
      },
    ));
    clients.forEach((c) => c.catch(() => undefined));
    const paidAtLeast = (n: number) => async () => {
      if (failures.length > 0) throw failures[0];
      return paid >= n;
    };

    await pollUntil(`${KILL_WORKER_AT} users to have paid`, paidAtLeast(KILL_WORKER_AT), { timeoutMs: 180_000 });
    expect((await worker.kill('SIGKILL')).signal).toBe('SIGKILL');
    await expectInvariants({ scope, allowInFlight: true });
    worker = await startWorkerProcess(envFor(config, QUEUE_ENV), 'worker#2');

    await pollUntil(`${KILL_API_AT} users to have paid`, paidAtLeast(KILL_API_AT), { timeoutMs: 180_000 });
    expect((await api.kill('SIGKILL')).signal).toBe('SIGKILL');
    await expectInvariants({ scope, allowInFlight: true });
    api = await startApiProcess(envFor(config, QUEUE_ENV), 'api#2');
    target.url = api.url;

    const booked: Booked[] = await Promise.all(clients);
    const elapsedMs = Date.now() - started;
    const byUser = new Map(booked.map((b) => [b.userId, b]));
    expect([...byUser.keys()].sort((a, b) => a - b)).toEqual(userIds);

    const tokens = await tokensOf(performanceId);
    expect(tokens.map((t) => [t.user_id, t.id, t.status, t.end_reason]).sort((a, b) => (a[0] as number) - (b[0] as number)))
      .toEqual(userIds.map((userId) => [userId, byUser.get(userId)!.tokenId, 'EXPIRED', 'PAID']));
    const admittedInTicketOrder = tokens.map((t) => t.admitted_ms!);
    expect(admittedInTicketOrder).toEqual([...admittedInTicketOrder].sort((a, b) => a - b));

    const reservations = await orm.em.fork().execute<{ id: string; user_id: number; status: string; queue_token_id: string }[]>(
      'select id, user_id, status, queue_token_id from reservations where performance_id = ? order by user_id',
      [performanceId],
    );
    expect(reservations.map((r) => [r.user_id, r.id, r.status, r.queue_token_id]))
      .toEqual(userIds.map((userId) => [userId, byUser.get(userId)!.reservationId, 'CONFIRMED', byUser.get(userId)!.tokenId]));

    const eventIds = new Set(booked.map((b) => confirmedEventId(reservationWorkflowId(b.reservationId))));
    await pollUntil('every confirmed reservation to reach the data platform', () => dataPlatform.events().filter((e) => eventIds.has(e.eventId)).length === USERS);
    await awaitReservationEventsDelivered(orm, performanceId);
    await expectInvariants({ scope, receivedEvents: dataPlatform.events(), allowInFlight: false });
    // The API's crash was felt: some client found it unreachable and sent its request again.
    expect(target.retries!.unreachable).toBeGreaterThan(0);
    printDrain(tokens, elapsedMs, target.retries!);
  }, 600_000);
});

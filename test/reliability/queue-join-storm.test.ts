/**
 * A join storm on one performance's waiting queue: {@link USERS} users join through the
 * HTTP API (a real API process) in an open loop at {@link RATE_PER_SECOND} requests per
 * second, each sent at its scheduled instant whether or not earlier ones were answered.
 * Every join is answered 201 with a ticket of its own; the first {@link ACTIVE_LIMIT} are
 * ACTIVE at once, the others WAITING with positions in ticket order (no two share one);
 * the queue's counter agrees with its tokens, and the invariant checker (the cap checked
 * from the tokens' admitted/ended timestamps included) passes. No worker runs, so nothing
 * else admits while the storm lasts and the positions answered are comparable.
 *
 * Latency percentiles (from each request's scheduled instant, so a slow server shows as
 * latency rather than as a slower loop) are printed, not asserted: speed belongs to the
 * benchmark (docs/benchmark.md).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { checkInvariants, formatInvariantReport } from '../../invariants/index.ts';
import { authHeader, tokenFor } from '../helpers/auth.ts';
import { createPerformance, openTestOrm, testConfig } from '../helpers/db.ts';
import { killAllParts } from '../helpers/parts.ts';
import { envFor, startApiProcess, type ApiPart } from '../helpers/processes.ts';
import { createQueueUsers, percentile } from '../helpers/queue-clients.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';

const USERS = 10_000;
const RATE_PER_SECOND = 1_000;
const ACTIVE_LIMIT = 50;
/** Sockets the client keeps to the API at most; requests beyond them queue in the client (and count as latency). */
const HTTP_CONNECTIONS = 128;
const QUEUE_ENV = { QUEUE_ACTIVE_LIMIT: String(ACTIVE_LIMIT), QUEUE_ACTIVE_SECONDS: '600' };

let env: TestWorkflowEnvironment;
let config: AppConfig;
let orm: Orm;
let api: ApiPart;
let pool: Pool;

beforeAll(async () => {
  // The API connects to Temporal when it starts, though joining never reaches it.
  env = await startTestTemporal(testConfig());
  config = testConfig({ ...QUEUE_ENV, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', TASK_QUEUE: uniqueTaskQueue('queue-storm') });
  orm = await openTestOrm(config);
  api = await startApiProcess(envFor(config, QUEUE_ENV));
  pool = new Pool(api.url, { connections: HTTP_CONNECTIONS, pipelining: 1 });
});

afterAll(async () => {
  await pool?.close();
  await killAllParts();
  await orm?.close();
  await env?.teardown();
});

/** One join as the client saw it: status, the token's ticket/status/position, and ms from its scheduled instant to the answer. */
interface Join {
  status: number;
  tokenId?: string;
  ticket?: number;
  tokenStatus?: string;
  position?: number;
  latencyMs: number;
}

/** `POST /queue/tokens {performanceId}` as the bearer of `token`, sent at `dueAt` (performance.now() ms). */
async function joinAt(dueAt: number, token: string, performanceId: number): Promise<Join> {
  const wait = dueAt - performance.now();
  if (wait > 0) await sleep(wait);
  try {
    const res = await pool.request({
      method: 'POST',
      path: '/queue/tokens',
      headers: { 'content-type': 'application/json', ...authHeader(token) },
      body: JSON.stringify({ performanceId }),
    });
    const body = (await res.body.json()) as { tokenId?: string; ticket?: number; status?: string; position?: number };
    return { status: res.statusCode, tokenId: body.tokenId, ticket: body.ticket, tokenStatus: body.status, position: body.position, latencyMs: performance.now() - dueAt };
  } catch {
    return { status: 0, latencyMs: performance.now() - dueAt };
  }
}

/** How many answers had each status (0: no answer). */
function tally(joins: Join[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const j of joins) counts[j.status] = (counts[j.status] ?? 0) + 1;
  return counts;
}

/** Ends the storm's live tokens (CANCELLED), so a later suite's admission driver has nothing of it to admit. */
async function closeQueue(performanceId: number): Promise<void> {
  await orm.em.fork().transactional(async (em) => {
    await em.execute('select 1 from queue_counters where performance_id = ? for update', [performanceId]);
    await em.execute(
      `update queue_tokens set status = 'CANCELLED', end_reason = 'CANCELLED', ended_at = clock_timestamp()
       where performance_id = ? and status in ('WAITING', 'ACTIVE')`,
      [performanceId],
    );
    await em.execute('update queue_counters set waiting = 0 where performance_id = ?', [performanceId]);
  });
}

describe('a join storm on one performance', () => {
  it(`answers ${USERS} joins sent at ${RATE_PER_SECOND}/s with unique tickets, positions in ticket order and the cap kept`, async () => {
    const { performanceId } = await createPerformance(orm, 1);
    const userIds = await createQueueUsers(orm, USERS, 0);
    // Tokens first, so that signing does not slow the loop down.
    const tokens = await Promise.all(userIds.map((id) => tokenFor(id)));

    const start = performance.now() + 200;
    const joins = await Promise.all(tokens.map((token, i) => joinAt(start + (i * 1000) / RATE_PER_SECOND, token, performanceId)));
    const elapsedS = (performance.now() - start) / 1000;

    expect(tally(joins)).toEqual({ 201: USERS });
    const byTicket = [...joins].sort((a, b) => a.ticket! - b.ticket!);
    expect(byTicket.map((j) => j.ticket)).toEqual(Array.from({ length: USERS }, (_, i) => i + 1));
    expect(new Set(joins.map((j) => j.tokenId)).size).toBe(USERS);
    // Nobody admits but the joins themselves: a join takes a free slot when nobody waits.
    expect(byTicket.slice(0, ACTIVE_LIMIT).map((j) => [j.tokenStatus, j.position])).toEqual(Array.from({ length: ACTIVE_LIMIT }, () => ['ACTIVE', 0]));
    const waiting = byTicket.slice(ACTIVE_LIMIT);
    expect(waiting.filter((j) => j.tokenStatus !== 'WAITING')).toEqual([]);
    const outOfOrder = waiting.filter((j, i) => i > 0 && j.position! <= waiting[i - 1]!.position!);
    expect(outOfOrder).toEqual([]);

    const [counter] = await orm.em.fork().execute<{ last_ticket: number; waiting: number }[]>(
      'select last_ticket, waiting from queue_counters where performance_id = ?',
      [performanceId],
    );
    expect(counter).toEqual({ last_ticket: USERS, waiting: USERS - ACTIVE_LIMIT });
    const report = await checkInvariants(orm, { scope: { performanceIds: [performanceId] }, queue: { activeLimit: ACTIVE_LIMIT } });
    if (!report.ok) throw new Error(`invariants broken:\n${formatInvariantReport(report)}`);
    expect(report.checks.find((c) => c.name === 'queue-tokens-within-active-limit')?.skipped).toBeUndefined();

    const latencies = joins.map((j) => j.latencyMs);
    const ms = (p: number) => `${percentile(latencies, p).toFixed(0)} ms`;
    console.log(
      `queue join storm: ${USERS} joins in ${elapsedS.toFixed(1)} s (${(USERS / elapsedS).toFixed(0)}/s, ${HTTP_CONNECTIONS} connections); ` +
        `latency from the scheduled send: p50 ${ms(50)}, p90 ${ms(90)}, p99 ${ms(99)}, max ${ms(100)}`,
    );
    await closeQueue(performanceId);
  }, 300_000);
});

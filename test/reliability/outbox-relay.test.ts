/**
 * The worker process crashes (SIGKILL) while its outbox relay is delivering a backlog of
 * data-platform events, and a new worker process delivers the rest: every event reaches
 * the platform exactly once (the receiver deduplicates by event id) and ends DELIVERED.
 *
 * Real parts: a Temporal dev server (createLocal), PostgreSQL (test database), the mock
 * data platform in this process (slow, so batches are in flight), and the WORKER as a
 * child process (`node worker/main.ts`) with a short lease, so the events the dead
 * worker had claimed are claimed again by the new one once the lease runs out.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { openTestOrm, testConfig } from '../helpers/db.ts';
import { killAllParts } from '../helpers/parts.ts';
import { envFor, startWorkerProcess } from '../helpers/processes.ts';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.ts';
import { pollUntil } from '../helpers/waiting.ts';

const EVENTS = 80;
const logger = pino({ level: 'warn' });
let env: TestWorkflowEnvironment;
let platform: DataPlatformServer;
let config: AppConfig;
let orm: Orm;

beforeAll(async () => {
  env = await startTestTemporal(testConfig());
  // Slow enough that a batch (10 events, 8 POSTs at a time) is in flight for most of a second.
  platform = createDataPlatformServer({ logger, latencyMs: 300 });
  const { url } = await platform.listen(0, '127.0.0.1');
  config = testConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TASK_QUEUE: uniqueTaskQueue('outbox-relay'),
    DATA_PLATFORM_URL: url,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
    OUTBOX_BATCH_SIZE: '10',
    OUTBOX_LEASE_MS: '2000',
    // Far longer than the test: the new worker is woken by its start and the lease's end.
    OUTBOX_POLL_MS: '600000',
  });
  orm = await openTestOrm(config);
});

afterAll(async () => {
  await killAllParts();
  await platform?.close();
  await orm?.close();
  await env?.teardown();
});

/** Writes `count` PENDING events into the outbox as the pivots do; returns their ids. */
async function insertEvents(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => `order.confirmed:order-${randomUUID()}`);
  await orm.em.fork().transactional(async (em) => {
    for (const id of ids) {
      await em.execute(
        `insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, created_at, occurred_at, next_attempt_at)
           values (?, ?, 'order.confirmed', 'PENDING', 0, ?::jsonb, clock_timestamp(), now(), now())`,
        [id, `order-${id.slice(-36)}`, JSON.stringify({ orderId: id.slice(-36) })],
      );
    }
  });
  return ids;
}

/** Counts of the events `ids` by status, and how many of them a live lease holds. */
async function outboxState(ids: string[]): Promise<{ delivered: number; claimed: number }> {
  const [row] = await orm.em.fork().execute<{ delivered: number; claimed: number }[]>(
    `select count(*) filter (where status = 'DELIVERED')::int as delivered,
            count(*) filter (where status = 'PENDING' and claimed_until > now())::int as claimed
       from data_platform_deliveries where event_id = any(?::text[])`,
    [`{${ids.map((id) => `"${id}"`).join(',')}}`],
  );
  return row ?? { delivered: 0, claimed: 0 };
}

function receivedIds(ids: string[]): string[] {
  const wanted = new Set(ids);
  return platform.events().filter((e) => wanted.has(e.eventId)).map((e) => e.eventId);
}

describe('outbox relay: worker crash (SIGKILL) during delivery', () => {
  it('delivers every event exactly once at the receiver after the new worker takes over', async () => {
    const ids = await insertEvents(EVENTS);
    const workerEnv = envFor(config, {
      OUTBOX_BATCH_SIZE: '10',
      OUTBOX_LEASE_MS: '2000',
      OUTBOX_POLL_MS: '600000',
      WORKER_METRICS_ADDRESS: '',
    });
    const first = await startWorkerProcess(workerEnv, 'worker-1');

    await pollUntil('the first worker to be mid-backlog with a batch in flight', async () => {
      const state = await outboxState(ids);
      return receivedIds(ids).length >= 10 && state.claimed > 0 && state.delivered < EVENTS - 20;
    }, { intervalMs: 20 });
    const exit = await first.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    const atKill = await outboxState(ids);
    expect(atKill.delivered).toBeLessThan(EVENTS);

    await startWorkerProcess(workerEnv, 'worker-2');
    await pollUntil('every event DELIVERED', async () => (await outboxState(ids)).delivered === EVENTS, { timeoutMs: 120_000 });

    const received = receivedIds(ids);
    expect(received).toHaveLength(EVENTS);
    expect(new Set(received).size).toBe(EVENTS);
    expect([...ids].sort()).toEqual([...received].sort());
  });
});

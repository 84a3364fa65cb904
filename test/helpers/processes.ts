/**
 * The service's own processes for the reliability suites that crash them: the worker
 * (`node worker/main.ts`) and the API (`node api/server.ts`) as {@link Part}s, started
 * with an environment built from a test config and awaited by their log lines.
 *
 * Related helpers: parts.ts (any child process), waiting.ts (polling and ports),
 * temporal-server.ts (a restartable Temporal dev server), tcp-relay.ts (a freezable relay).
 */
import path from 'node:path';
import type { AppConfig } from '../../config/index.ts';
import { REPO_ROOT } from '../../scripts/temporal-cli.ts';
import { spawnPart, type Part } from './parts.ts';

/**
 * The environment a part needs to run with `config` (the variables config/index.ts
 * reads), plus `overrides`. PATH and HOME come from the test process; nothing else does,
 * so a developer's shell cannot leak settings into a part.
 */
export function envFor(config: AppConfig, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: config.env,
    LOG_LEVEL: 'info',
    // The suites read the parts' log lines as JSON (`waitForLine((l) => l.json?.msg ...)`).
    LOG_FORMAT: 'json',
    DATABASE_URL: config.database.url,
    TEST_DATABASE_URL: config.database.testUrl,
    DATABASE_POOL_MAX: String(config.database.poolMax),
    // The suite's bounded waits (testConfig: long, so that held row locks are not cut).
    DATABASE_STATEMENT_TIMEOUT_MS: String(config.database.statementTimeoutMs),
    DATABASE_QUERY_TIMEOUT_MS: String(config.database.queryTimeoutMs),
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TASK_QUEUE: config.temporal.taskQueue,
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    ORDER_OUTCOME_WAIT_MS: String(config.api.orderOutcomeWaitMs),
    DATA_PLATFORM_URL: config.dataPlatform.url,
    DATA_PLATFORM_TIMEOUT_MS: String(config.dataPlatform.timeoutMs),
    // No reconciliation Schedule (a worker started with 0 deletes it): a suite gets no
    // repairs it did not ask for; reconciliation-schedule.test.ts sets its own interval.
    RECONCILIATION_INTERVAL_MS: '0',
    // The suite's hold caps and rate limit (testConfig: off unless a suite sets one).
    RESERVATION_MAX_LIVE_HOLDS: String(config.holdLimits.maxLiveHolds),
    RESERVATION_MAX_HELD_SEATS: String(config.holdLimits.maxHeldSeats),
    RATE_LIMIT_WRITES_PER_MINUTE: String(config.rateLimit.writesPerMinute),
    // The suite's waiting queue (testConfig: a cap no suite reaches unless it sets one).
    QUEUE_ACTIVE_LIMIT: String(config.queue.activeLimit),
    QUEUE_ACTIVE_SECONDS: String(config.queue.activeMs / 1000),
    QUEUE_POLL_MS: String(config.queue.pollMs),
    // The suite's outbox relay (worker/outbox-relay.ts).
    OUTBOX_BATCH_SIZE: String(config.outbox.batchSize),
    OUTBOX_LEASE_MS: String(config.outbox.leaseMs),
    OUTBOX_POLL_MS: String(config.outbox.pollMs),
    // The suite predicts the ids the API derives from Idempotency-Keys (api/idempotency.ts).
    IDEMPOTENCY_SECRET: config.idempotency.secret,
    ...overrides,
  };
}

/**
 * Starts the worker process (`node worker/main.ts`) and resolves once it logged
 * "worker started" (workflows bundled, worker created; it polls right after).
 */
export async function startWorkerProcess(env: Record<string, string>, name = 'worker'): Promise<Part> {
  const part = spawnPart({ name, args: [path.join(REPO_ROOT, 'worker', 'main.ts')], env });
  try {
    await part.waitForLine((l) => l.json?.msg === 'worker started', 90_000);
  } catch (err) {
    await part.kill();
    throw err;
  }
  return part;
}

/** A running API process and its base URL. */
export interface ApiPart extends Part {
  url: string;
}

/**
 * Starts the API process (`node api/server.ts`; `API_PORT=0` picks a free port) and
 * resolves once it logged that it listens, with the URL it logged.
 */
export async function startApiProcess(env: Record<string, string>, name = 'api'): Promise<ApiPart> {
  const part = spawnPart({ name, args: [path.join(REPO_ROOT, 'api', 'server.ts')], env });
  try {
    const line = await part.waitForLine((l) => typeof l.json?.url === 'string' && /listening/.test(String(l.json.msg)), 60_000);
    return Object.assign(part, { url: String(line.json!.url) });
  } catch (err) {
    await part.kill();
    throw err;
  }
}

/**
 * The whole service in one test process, on real parts: a Temporal dev server, the
 * saga worker, PostgreSQL (test database), the mock data platform over HTTP, and the
 * Koa API listening on a free port. One stack per test file (beforeAll/afterAll). Every
 * answer of the API is checked against the OpenAPI document (`stack.contract`; suites
 * call {@link closeStack} in afterAll, which closes the stack and then checks it).
 */
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { AppConfig } from '../../config/index.ts';
import { openOrm, type Orm } from '../../db/orm.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { createDataPlatformClient } from '../../activities/data-platform.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import { startApiServer } from '../../api/server.ts';
import { startOutboxRelay, type OutboxRelay } from '../../worker/outbox-relay.ts';
import { startQueueAdmission, type QueueAdmissionDriver } from '../../worker/queue-admission.ts';
import { createSagaWorker, WORKFLOWS_PATH } from '../../worker/worker.ts';
import { authHeader, operatorToken, tokenFor } from './auth.ts';
import { openTestOrm, testConfig } from './db.ts';
import { expectNoContractViolations, recordContract, type ContractRecorder } from './openapi-check.ts';
import { queueTokenHeader } from './queue-tokens.ts';
import { bundleWorkflows, startTestTemporal, uniqueTaskQueue } from './temporal.ts';

/** A running stack and the handles a test needs. */
export interface TestStack {
  config: AppConfig;
  env: TestWorkflowEnvironment;
  orm: Orm;
  dataPlatform: DataPlatformServer;
  apiUrl: string;
  /** What the API answered, checked against the OpenAPI document. */
  contract: ContractRecorder;
  /**
   * Stops the worker, its queue admission driver and its outbox relay (e.g. to test a
   * restart); resolves once all three have stopped.
   */
  stopWorker(): Promise<void>;
  /**
   * Starts a new worker on the same task queue, with the queue admission driver and the
   * outbox relay (which delivers the sagas' data-platform events) as worker/main.ts runs them.
   */
  startWorker(): Promise<void>;
  /** Runs one pass of the outbox relay now and resolves when it is done (no-op while the worker is stopped). */
  drainOutbox(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startStack}: extra environment for the config (e.g. ORDER_OUTCOME_WAIT_MS). */
export interface StackOptions {
  env?: Record<string, string>;
  /** Activities that replace the real ones, built from the real ones (fault injection). */
  activityOverrides?: (real: Activities) => Partial<Activities>;
  /**
   * Database URL of the worker's own ORM (e.g. through a fault-injecting proxy); the API
   * and `stack.orm` keep the direct test database. Default: the worker shares `stack.orm`.
   */
  workerDatabaseUrl?: string;
}

/**
 * A fault for {@link StackOptions.activityOverrides}: `refundPoints` fails for good
 * (non-retryable `LedgerClosed`) while its user is in `users`, and is the real activity
 * otherwise. A test adds a user to break the refund and deletes it to fix the cause.
 */
export function refundFailsFor(users: ReadonlySet<number>, real: Activities): Pick<Activities, 'refundPoints'> {
  return {
    async refundPoints(input) {
      if (users.has(input.userId)) throw ApplicationFailure.nonRetryable('ledger is closed', 'LedgerClosed');
      return real.refundPoints(input);
    },
  };
}

/** Longest a closing stack waits for its outbox relay's last pass, in ms. */
const CLOSE_DRAIN_BOUND_MS = 5_000;

/** Resolves when `work` settles (its error ignored) or after `boundMs`, whichever comes first. */
async function settledWithin(work: Promise<unknown>, boundMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
  });
  await Promise.race([work.then(() => undefined, () => undefined), bound]);
  clearTimeout(timer);
}

/** Starts a stack; call `close()` in afterAll. */
export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const logger = pino({ level: 'warn' });
  const env = await startTestTemporal(testConfig());
  const dataPlatform = createDataPlatformServer({ logger });
  const { url: dataPlatformUrl } = await dataPlatform.listen(0, '127.0.0.1');
  const config = testConfig({
    ...options.env,
    TASK_QUEUE: uniqueTaskQueue('orders'),
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    DATA_PLATFORM_URL: dataPlatformUrl,
    DATA_PLATFORM_TIMEOUT_MS: '5000',
  });
  const orm = await openTestOrm(config);
  const workerOrm = options.workerDatabaseUrl ? await openOrm({ ...config.database, url: options.workerDatabaseUrl }) : orm;
  const bundle: WorkflowBundleWithSourceMap = await bundleWorkflows(WORKFLOWS_PATH);

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let admission: QueueAdmissionDriver | undefined;
  let relay: OutboxRelay | undefined;
  const startWorker = async () => {
    const dataPlatformClient = createDataPlatformClient({ baseUrl: dataPlatformUrl, timeoutMs: 5000 });
    const deps = {
      orm: workerOrm,
      dataPlatform: dataPlatformClient,
      balanceLimitPoints: config.limits.balancePoints,
      orderTotalLimitWon: config.limits.orderTotalWon,
      holdLimits: config.holdLimits,
    };
    worker = await createSagaWorker({
      connection: env.nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: bundle,
      deps,
      activityOverrides: options.activityOverrides?.(createActivities(deps)),
    });
    running = worker.run();
    // LISTEN on the direct database (a fault-injecting worker URL would leave a hanging connect behind).
    const { queue } = config;
    admission = startQueueAdmission(workerOrm, logger, { settings: queue, pollMs: queue.pollMs, databaseUrl: config.database.url });
    relay = startOutboxRelay(workerOrm, logger, { databaseUrl: config.database.url, client: dataPlatformClient, ...config.outbox });
  };
  const stopWorker = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await admission?.stop();
    admission = undefined;
    await relay?.stop();
    relay = undefined;
  };
  await startWorker();

  const api = await startApiServer({ orm, client: env.client, config, logger }, { host: '127.0.0.1', port: 0 });
  const contract = recordContract(api);

  return {
    config,
    env,
    orm,
    dataPlatform,
    apiUrl: api.url,
    contract,
    stopWorker,
    startWorker,
    drainOutbox: async () => relay?.drainNow(),
    async close() {
      await api.close();
      // The suite's own events go to its own data platform, not to the next suite's relay
      // and platform on the same database; bounded, for a suite that leaves the platform slow.
      await settledWithin(relay?.drainNow() ?? Promise.resolve(), CLOSE_DRAIN_BOUND_MS);
      await stopWorker();
      await dataPlatform.close();
      if (workerOrm !== orm) await workerOrm.close();
      await orm.close();
      await env.teardown();
    },
  };
}

/**
 * The afterAll of a stack suite: closes the stack (if beforeAll got that far), then fails
 * on any API answer that broke the OpenAPI contract during the suite.
 */
export async function closeStack(stack: TestStack | undefined): Promise<void> {
  await stack?.close();
  expectNoContractViolations(stack?.contract);
}

/** A JSON answer of the API: status, headers and parsed body. */
export interface ApiAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Who a request is sent as: a user id, an operator token, no token at all, or this token
 * string (e.g. one from `mintToken`).
 */
export type CallAs = number | 'operator' | 'anonymous' | (string & {});

/** Options of {@link callApi}. */
export interface CallOptions {
  /** Who to send the request as; default the request's natural actor ({@link naturalActor}). */
  as?: CallAs;
  /** `false`: send no `Queue-Token` on the suite's behalf (a request that tests its absence). */
  queueToken?: false;
}

/**
 * The natural actor of a request, as the test suites mean it: the `userId` of its JSON
 * body; else the `:id` of a `/users/:id/...` path; an operator on operator routes
 * (`.../compensations/retry`); for `/orders/:id...` and `/reservations/:id...` the owner
 * read from the database (an operator, who may read any, when there is no row yet or no
 * `orm`); nobody for the other (public) routes.
 */
export async function naturalActor(orm: Orm | undefined, path: string, body: unknown): Promise<CallAs> {
  const pathname = new URL(path, 'http://x').pathname;
  if (/\/compensations\/retry$/.test(pathname)) return 'operator';
  const bodyUser = body !== null && typeof body === 'object' ? (body as { userId?: unknown }).userId : undefined;
  if (Number.isSafeInteger(bodyUser) && (bodyUser as number) > 0) return bodyUser as number;
  const user = /^\/users\/(\d+)(\/|$)/.exec(pathname);
  if (user) return Number(user[1]);
  const owned = /^\/(orders|reservations)\/([^/]+)/.exec(pathname);
  if (owned?.[1] && owned[2]) return (await ownerOf(orm, owned[1], owned[2])) ?? 'operator';
  return 'anonymous';
}

/** The user id owning order or reservation `id`, if its row exists. */
async function ownerOf(orm: Orm | undefined, table: string, id: string): Promise<number | undefined> {
  if (!orm || !/^[0-9a-fA-F-]{36}$/.test(id)) return undefined;
  const rows = await orm.em.getConnection().execute<{ user_id: number }[]>(`select user_id from ${table} where id = ?`, [id]);
  return rows[0]?.user_id;
}

/** The `Authorization` header of `as`, or none. */
async function authorizationFor(as: CallAs): Promise<Record<string, string>> {
  if (as === 'anonymous') return {};
  const token = as === 'operator' ? await operatorToken() : typeof as === 'number' ? await tokenFor(as) : as;
  return authHeader(token);
}

/**
 * Sends a JSON request to the stack's API, with a bearer token of `options.as` (default: the
 * request's natural actor, {@link naturalActor}, read with `stack.orm` when there is one),
 * unless `headers` has an `authorization` of its own. A user's `POST /reservations` and
 * `POST /reservations/:id/payment` without a `Queue-Token` header get the user's queue
 * token (queue-tokens.ts `queueTokenHeader`: joined with `stack.orm` under
 * `stack.config`'s admission rules and awaited until ACTIVE), unless `options.queueToken` is false.
 */
export async function callApi<T = any>(
  stack: Pick<TestStack, 'apiUrl'> & { orm?: Orm; config?: AppConfig },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  options: CallOptions = {},
): Promise<ApiAnswer<T>> {
  const ownAuthorization = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  const actor = ownAuthorization ? undefined : (options.as ?? (await naturalActor(stack.orm, path, body)));
  const auth = actor === undefined ? {} : await authorizationFor(actor);
  const queueToken = typeof actor === 'number' && options.queueToken !== false ? await queueTokenHeader(stack, { method, path, body, headers }, actor) : {};
  const res = await fetch(new URL(path, stack.apiUrl), {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth, ...queueToken, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

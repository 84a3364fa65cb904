/**
 * The API alone in the test process (no worker): the Koa server on a free port, on the
 * test database, with every answer recorded for the OpenAPI check. Its Temporal client is
 * either the caller's (a real dev server the suite started) or one on a lazy connection
 * to an address where nothing listens, for suites whose routes never reach Temporal,
 * or one on a dev server of its own ({@link startTestApiOnTemporal}).
 */
import { pino } from 'pino';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppDeps } from '../../api/app.ts';
import { startApiServer, type RunningApiServer } from '../../api/server.ts';
import type { AppConfig } from '../../config/index.ts';
import type { Orm } from '../../db/orm.ts';
import { openTestOrm, testConfig } from './db.ts';
import { recordContract, type ContractRecorder } from './openapi-check.ts';
import { refusingInterceptor } from './http.ts';
import { startTestTemporal, uniqueTaskQueue } from './temporal.ts';

/** An address where no Temporal server listens. */
const NO_TEMPORAL = '127.0.0.1:1';

/** Options of {@link startTestApi}. */
export interface TestApiOptions {
  /** Extra environment for {@link testConfig}. */
  env?: Record<string, string>;
  /**
   * The Temporal client (e.g. `env.client` of a dev server the suite owns and tears down).
   * Default: a client on a lazy connection to an address where nothing listens, which the
   * API closes with itself; `TEMPORAL_ADDRESS` is set to that address.
   */
  client?: Client;
  /**
   * With the default client: record every workflow call's name here and refuse it at
   * once (no retry), so a suite can assert that no call reached Temporal.
   */
  refusedCalls?: string[];
}

/** A running API and the handles a test needs; `close()` in afterAll, then check `contract`. */
export interface TestApi {
  config: AppConfig;
  orm: Orm;
  /** What the server was started with (e.g. to build a second app with `createApp`). */
  deps: AppDeps;
  server: RunningApiServer;
  /** The server's base URL. */
  url: string;
  /** What the API answered, for `expectNoContractViolations`. */
  contract: ContractRecorder;
  /** Closes the server, the Temporal connection it owns (not a caller's client) and the ORM. */
  close(): Promise<void>;
}

/** Starts the API on the test database; see {@link TestApiOptions} for its Temporal client. */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const config = testConfig(options.client ? { ...options.env } : { ...options.env, TEMPORAL_ADDRESS: NO_TEMPORAL });
  const orm = await openTestOrm(config);
  let connection: Connection | undefined;
  let client = options.client;
  if (!client) {
    // No retry interceptor: a stray call fails at once instead of retrying.
    connection = Connection.lazy({ address: config.temporal.address, interceptors: [] });
    const workflow: WorkflowClientInterceptor[] = options.refusedCalls ? [refusingInterceptor(options.refusedCalls)] : [];
    client = new Client({ connection, namespace: config.temporal.namespace, interceptors: { workflow } });
  }
  const deps: AppDeps = { orm, client, config, logger: pino({ level: 'silent' }) };
  const server = await startApiServer(deps, { host: '127.0.0.1', port: 0 });
  return {
    config,
    orm,
    deps,
    server,
    url: server.url,
    contract: recordContract(server),
    async close() {
      await server.close();
      await connection?.close();
      await orm.close();
    },
  };
}

/** A {@link TestApi} with the Temporal dev server it runs on. */
export interface TestApiOnTemporal extends TestApi {
  env: TestWorkflowEnvironment;
}

/**
 * Starts a Temporal dev server (no worker) and the API on it, in its namespace with a
 * fresh task queue named after `taskQueuePrefix`; `close()` also tears the server down,
 * after the API.
 */
export async function startTestApiOnTemporal(taskQueuePrefix: string): Promise<TestApiOnTemporal> {
  const env = await startTestTemporal(testConfig());
  try {
    const api = await startTestApi({
      client: env.client,
      env: { TEMPORAL_NAMESPACE: env.namespace ?? 'default', TASK_QUEUE: uniqueTaskQueue(taskQueuePrefix) },
    });
    return {
      ...api,
      env,
      async close() {
        await api.close();
        await env.teardown();
      },
    };
  } catch (err) {
    await env.teardown();
    throw err;
  }
}

/**
 * The API process (`npm run api`): config, logger, ORM (no migrations: `npm run db:setup`
 * or `npm start` runs them), Temporal client, HTTP server, the Prometheus listener on its
 * own address (`API_METRICS_ADDRESS`, never the public port), graceful shutdown on
 * SIGTERM/SIGINT. {@link startApiServer} runs the same server in-process for tests and
 * the start-all script.
 *
 * Tracing (config/tracing.ts) starts first, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. An
 * instrumentation patches only modules loaded after it, so this module imports the ORM
 * (pg) and the Koa app only when they are needed, after tracing started: keep pg and koa
 * out of its static imports.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { Router } from '@koa/router';
import { loadConfig } from '../config/index.ts';
import { temporalConnectionOptions } from '../config/temporal.ts';
import { createLogger } from '../config/logger.ts';
import { startTracing } from '../config/tracing.ts';
import type { AppDeps, AppState } from './app.ts';
import { startMetricsListener, type RunningMetricsListener } from './metrics/listener.ts';
import { createApiMetrics } from './middleware/metrics.ts';
import { answerProtocolErrors } from './protocol-errors.ts';
import { temporalClientInterceptors } from './temporal.ts';

/** A listening API server. */
export interface RunningApiServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The underlying Node server (tests observe its requests and answers). */
  server: Server;
  /** `http://<metrics address>/metrics`, or undefined when the metrics listener is off or could not bind. */
  metricsUrl: string | undefined;
  /**
   * Stops accepting connections, lets requests in flight finish (closing idle keep-alive
   * connections at once) and resolves when the server and its metrics listener are
   * closed. Does not close `deps`.
   */
  close(): Promise<void>;
}

/** How long {@link RunningApiServer.close} lets requests in flight finish before cutting connections, in ms. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Where {@link startApiServer} listens, and what it serves besides the API. */
export interface ApiServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Routes served after the API's own (the bench servers' extra routes). */
  extraRouter?: Router<AppState>;
  /**
   * `ip:port` of the Prometheus listener (config/metrics-address.ts; port 0 picks a free
   * one); undefined: no metrics listener (the tests' default).
   */
  metricsAddress?: string;
}

/**
 * Builds the app from `deps` (plus `options.extraRouter`), listens on `host:port`, and
 * serves the app's metrics on `options.metricsAddress` when given (an address already
 * taken leaves metrics off: see startMetricsListener).
 *
 * @throws the listen error of the API port (e.g. `EADDRINUSE`).
 */
export async function startApiServer(deps: AppDeps, options: ApiServerOptions): Promise<RunningApiServer> {
  const metrics = createApiMetrics();
  // Imported here, not above: Koa must load after tracing's instrumentation (see the top of this file).
  const { createApp } = await import('./app.ts');
  const app = createApp(deps, metrics);
  if (options.extraRouter) app.use(options.extraRouter.routes());
  // Node's own refusal of an HTTP/1.1 request without Host is a 400 with no body; with
  // its check off, the request-context middleware refuses it as problem details.
  const server: Server = createServer({ requireHostHeader: false }, app.callback());
  answerProtocolErrors(server, deps.logger);
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let metricsListener: RunningMetricsListener | undefined;
  try {
    if (options.metricsAddress) metricsListener = await startMetricsListener(metrics.registry, options.metricsAddress, deps.logger);
  } catch (err) {
    await closeServer(server);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    server,
    metricsUrl: metricsListener?.url,
    close() {
      closing ??= Promise.all([closeServer(server), metricsListener?.close()]).then(() => undefined);
      return closing;
    },
  };
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  force.unref();
  try {
    await closed;
  } finally {
    clearTimeout(force);
  }
}

/** Process entry: runs the API until SIGTERM/SIGINT, then shuts down in order. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  const tracing = await startTracing(config.tracing, { service: 'sagas-api', instrument: ['http', 'koa', 'pg'] });
  if (tracing) logger.info({ endpoint: config.tracing.endpoint, protocol: config.tracing.protocol }, 'tracing on');
  const { openOrm } = await import('../db/orm.ts');
  const orm = await openOrm(config.database);
  const connection = await Connection.connect(await temporalConnectionOptions(config.temporal));
  const client = new Client({ connection, namespace: config.temporal.namespace, interceptors: await temporalClientInterceptors(tracing !== undefined) });
  const server = await startApiServer(
    { orm, client, config, logger },
    { host: config.api.host, port: config.api.port, metricsAddress: config.api.metricsAddress },
  );
  logger.info(
    { url: server.url, metricsUrl: server.metricsUrl ?? null, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue },
    `API listening on ${server.url}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'API shutting down');
    try {
      await server.close();
      await orm.close();
      await connection.close();
      await tracing?.shutdown();
      logger.info('API stopped');
    } catch (err) {
      logger.error({ err }, 'API shutdown failed');
      process.exitCode = 1;
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error('API failed to start:', err);
    process.exit(1);
  });
}

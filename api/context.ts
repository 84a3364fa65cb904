/** Types shared by the API's app, middleware and routes. */
import type { Client } from '@temporalio/client';
import type { Router } from '@koa/router';
import type { AppConfig } from '../config/index.ts';
import type { Logger } from '../config/logger.ts';
import type { Orm } from '../db/orm.ts';

/** What the API needs from the outside world; {@link createApp} receives it. */
export interface AppDeps {
  /** The open ORM; each request forks its own EntityManager. */
  orm: Orm;
  /** Temporal client on the configured namespace. */
  client: Client;
  config: AppConfig;
  /** Root logger; every request gets a child with its `requestId`. */
  logger: Logger;
}

/** Per-request state (`ctx.state`), set by the request-context middleware. */
export interface AppState {
  /** The request id: the sanitized incoming `X-Request-Id`, or a generated UUID. */
  requestId: string;
  /** Child logger carrying `requestId`. */
  log: Logger;
}

/** The router type every route module registers on. */
export type AppRouter = Router<AppState>;

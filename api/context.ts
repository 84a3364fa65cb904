/** Types shared by the API's app, middleware and routes. */
import type { Client } from '@temporalio/client';
import type { Router } from '@koa/router';
import type { AppConfig } from '../config/index.ts';
import type { Logger } from '../config/logger.ts';
import type { Orm } from '../db/orm.ts';
import type { Caller } from './auth/verifier.ts';

export type { Caller } from './auth/verifier.ts';

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
  /** Child logger carrying `requestId` (and, once authenticated, the caller's subject). */
  log: Logger;
  /**
   * The authenticated caller (api/auth/guard.ts): set on every `user` and `operator`
   * route before its handler runs; undefined on public routes.
   */
  caller?: Caller;
}

/** The router type every route module registers on. */
export type AppRouter = Router<AppState>;

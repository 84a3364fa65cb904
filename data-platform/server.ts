/**
 * The mock external data platform: a Koa HTTP server that receives the events of
 * completed orders and reservations, deduplicates them by `eventId`, and misbehaves on
 * demand (latency, outage, random failures before or after recording) so that retries
 * and idempotent delivery can be demonstrated and tested.
 *
 * Routes:
 * - `POST /events` `{eventId, type, occurredAt, payload}`: 201 `{eventId, duplicate:false}`
 *   on first delivery, 200 `{eventId, duplicate:true}` on a repeat, 400 on bad input,
 *   503 when down, 500 on a simulated failure.
 * - `GET /events[?type=]` `{events: ReceivedEvent[]}`; `GET /events/:eventId`; `DELETE /events`.
 * - `GET /settings`, `PUT /settings` (partial {@link DataPlatformSettings}).
 * - `GET /healthz`: 200 whenever the process is up, even when simulating an outage.
 *
 * What it received lives in memory, or with `storePath` in an append-only JSON-lines file
 * (data-platform/journal.ts) that a new server on the same file reads back.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Router } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import { z } from 'zod';
import type { Logger } from '../config/logger.ts';
import {
  IncomingEventSchema,
  SettingsPatchSchema,
  type DataPlatformSettings,
  type ErrorBody,
  type ReceivedEvent,
  type SettingsPatch,
} from './schemas.ts';
import { EventStore } from './store.ts';

export type { DataPlatformSettings, ReceivedEvent, SettingsPatch } from './schemas.ts';

/** Options of {@link createDataPlatformServer}; omitted settings default to a well-behaved platform. */
export type DataPlatformServerOptions = Partial<DataPlatformSettings> & {
  logger: Logger;
  /** Source of randomness for the failure probabilities, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Clock for `receivedAt`. Default `() => new Date()`. */
  now?: () => Date;
  /**
   * The JSON-lines file that keeps the received events and attempt counts across restarts
   * (relative to the working directory; one server per file); absent or empty: in memory.
   */
  storePath?: string;
};

/** A running or runnable mock data platform. */
export type DataPlatformServer = {
  /** The Koa application, for embedding; {@link DataPlatformServer.listen} is the usual entry. */
  readonly app: Koa;
  /**
   * Starts listening; port 0 picks a free port.
   * @returns the base URL (e.g. `http://127.0.0.1:4100`) and the bound port.
   * @throws the `listen` error (e.g. `EADDRINUSE`); at most one listen per instance.
   */
  listen(port: number, host: string): Promise<{ url: string; port: number }>;
  /**
   * Stops listening, answers requests still waiting on simulated latency with 503, closes
   * all connections, then the store's file. The instance cannot be used afterwards.
   */
  close(): Promise<void>;
  /** A copy of the current settings. */
  readonly settings: DataPlatformSettings;
  /**
   * Changes some settings; they apply to requests that arrive afterwards.
   * @throws ZodError when a value is out of range (same rules as `PUT /settings`).
   */
  updateSettings(patch: SettingsPatch): DataPlatformSettings;
  /** The recorded events, in arrival order (copies). */
  events(): ReceivedEvent[];
  /** Forgets all events and attempt counts, and empties the store's file. */
  clear(): void;
};

/** An error that maps to a JSON error answer with this HTTP status and code. */
class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const DEFAULT_SETTINGS: DataPlatformSettings = {
  latencyMs: 0,
  failureRate: 0,
  down: false,
  failAfterRecord: 0,
};

/**
 * Builds the mock data platform (not yet listening), reading back `storePath` when given.
 *
 * @throws ZodError when an initial setting is out of range; the file system's error, or an
 *   Error naming the line, when `storePath` cannot be opened or is not an event journal.
 */
export function createDataPlatformServer(options: DataPlatformServerOptions): DataPlatformServer {
  const { logger, random = Math.random, now, storePath, ...initial } = options;
  const settings: DataPlatformSettings = {
    ...DEFAULT_SETTINGS,
    ...stripUndefined(SettingsPatchSchema.parse(initial)),
  };
  const store = new EventStore({ now, path: storePath });
  if (store.loaded) {
    const { path, events, tornBytes } = store.loaded;
    if (tornBytes > 0) logger.warn({ storePath: path, tornBytes }, 'dropped a torn last line of the event store');
    logger.info({ storePath: path, events }, 'data platform events read back');
  }
  const closing = new AbortController();
  let server: Server | undefined;

  const updateSettings = (patch: SettingsPatch): DataPlatformSettings => {
    Object.assign(settings, stripUndefined(SettingsPatchSchema.parse(patch)));
    logger.info({ settings }, 'data platform settings changed');
    return { ...settings };
  };

  const router = new Router();

  router.post('/events', async (ctx) => {
    if (settings.latencyMs > 0) {
      try {
        await sleep(settings.latencyMs, undefined, { signal: closing.signal });
      } catch {
        throw new HttpError(503, 'SHUTTING_DOWN', 'The data platform is shutting down');
      }
    }
    if (settings.down) {
      throw new HttpError(503, 'SERVICE_UNAVAILABLE', 'The data platform is down (simulated)');
    }
    const input = IncomingEventSchema.parse(ctx.request.body);
    const attempts = store.countAttempt(input.eventId);
    const log = logger.child({ eventId: input.eventId, eventType: input.type, attempts });
    if (random() < settings.failureRate) {
      log.info({ outcome: 'failed-before-record' }, 'simulated failure, event not recorded');
      throw new HttpError(500, 'SIMULATED_FAILURE', 'Simulated failure; the event was not recorded');
    }
    const { duplicate } = store.record(input);
    if (random() < settings.failAfterRecord) {
      log.info({ outcome: 'failed-after-record', duplicate }, 'simulated failure after recording');
      throw new HttpError(500, 'SIMULATED_FAILURE', 'Simulated failure');
    }
    log.info({ outcome: duplicate ? 'duplicate' : 'recorded' }, 'event received');
    ctx.status = duplicate ? 200 : 201;
    ctx.body = { eventId: input.eventId, duplicate };
  });

  router.get('/events', (ctx) => {
    const type = typeof ctx.query.type === 'string' ? ctx.query.type : undefined;
    ctx.body = { events: store.list(type) };
  });

  router.get('/events/:eventId', (ctx) => {
    const event = store.get(ctx.params.eventId ?? '');
    if (!event) throw new HttpError(404, 'NOT_FOUND', `No event with id ${ctx.params.eventId}`);
    ctx.body = event;
  });

  router.delete('/events', (ctx) => {
    store.clear();
    logger.info('events cleared');
    ctx.status = 204;
  });

  router.get('/settings', (ctx) => {
    ctx.body = { ...settings };
  });

  router.put('/settings', (ctx) => {
    ctx.body = updateSettings(SettingsPatchSchema.parse(ctx.request.body ?? {}));
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  const app = new Koa();
  app.use(errorMiddleware(logger));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb' }));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));

  return {
    app,
    async listen(port, host) {
      if (server) throw new Error('The data platform server is already listening');
      server = createServer(app.callback());
      server.listen(port, host);
      await once(server, 'listening');
      const bound = (server.address() as AddressInfo).port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      return { url: `http://${urlHost}:${bound}`, port: bound };
    },
    async close() {
      closing.abort();
      try {
        if (!server?.listening) return;
        const closed = once(server, 'close');
        server.close();
        server.closeIdleConnections();
        // Requests aborted out of their latency above still get their 503 before this.
        setImmediate(() => server?.closeAllConnections());
        await closed;
      } finally {
        store.close();
      }
    },
    get settings() {
      return { ...settings };
    },
    updateSettings,
    events: () => store.list(),
    clear: () => store.clear(),
  };
}

/** Maps every error to the `{ error: { code, message, details } }` shape; logs unexpected ones. */
function errorMiddleware(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) {
        throw new HttpError(404, 'NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const { status, body } = toErrorAnswer(err);
      if (status >= 500 && !(err instanceof HttpError)) {
        logger.error({ err, method: ctx.method, path: ctx.path }, 'unexpected error');
      }
      ctx.status = status;
      ctx.body = body;
    }
  };
}

function toErrorAnswer(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message, details: err.details } } };
  }
  if (err instanceof z.ZodError) {
    const details = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    return { status: 400, body: { error: { code: 'VALIDATION_ERROR', message: 'Invalid request', details } } };
  }
  // Client errors from Koa, the body parser (malformed JSON, too large) and allowedMethods.
  const e = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const code = CLIENT_ERROR_CODES[e.status] ?? 'BAD_REQUEST';
    const message = e.expose === true ? String(e.message) : 'Malformed request body';
    return { status: e.status, body: { error: { code, message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'Internal error' } } };
}

const CLIENT_ERROR_CODES: Record<number, string> = {
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

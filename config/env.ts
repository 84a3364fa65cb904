/**
 * The environment variables every process reads, their defaults and their checks, as one
 * zod schema; config/index.ts turns the parsed environment into the typed settings.
 * Nothing here reads `process.env`.
 */
import { z } from 'zod';
import { DEFAULT_ORDER_GRACE_MS, DEFAULT_RESERVATION_GRACE_MS } from '../common/reconciliation.ts';
import { isMetricsAddress } from './metrics-address.ts';

const port = z.coerce.number().int().min(0).max(65535);
/** A Prometheus endpoint's `ip:port` (config/metrics-address.ts), or empty: off. */
const metricsAddress = z
  .string()
  .refine((v) => v === '' || isMetricsAddress(v), 'expected <IPv4>:<port>, [<IPv6>]:<port> or empty');
const positiveMs = z.coerce.number().int().positive();
/** A positive integer, or unset (absent or empty): the library's own default applies. */
const optionalCount = z
  .union([z.literal(''), z.coerce.number().int().positive()])
  .optional()
  .transform((v) => (v === '' ? undefined : v));
/**
 * The idempotency secret of development and tests when IDEMPOTENCY_SECRET is unset: written
 * here, so anyone can derive the ids it keys. Refused under NODE_ENV=production; the API
 * logs a warning when it runs on it in development.
 */
export const DEV_IDEMPOTENCY_SECRET = 'development-only-idempotency-secret:never-use-in-production';
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * `pretty` (one coloured line per entry, for people) or `json` (one JSON object per
   * line, for log collectors). Unset or empty: `pretty` when stdout is a terminal (and
   * NODE_ENV is not `test`), else `json`, so CI, containers and tests get JSON.
   */
  LOG_FORMAT: z.enum(['pretty', 'json', '']).optional(),
  /** PostgreSQL connection URL of the application database. */
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/sagas'),
  /** Database the tests create, migrate and use (never the application database). */
  TEST_DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/sagas_test'),
  /** Size of the MikroORM connection pool per process. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Server-side limit of one SQL statement (PostgreSQL `statement_timeout`), in ms; 0 turns
   * it off. A statement past it (a lock wait behind a lost session, a runaway query) fails
   * with a clean error and its step is retried; the connection stays usable.
   */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Client-side limit of one query (pg `query_timeout`), in ms; 0 turns it off. The one
   * bound that fires when the connection went silent (packets dropped, no FIN or RST): the
   * query fails, the connection is closed and dropped from the pool, the step is retried.
   * Longer than the statement timeout, shorter than the steps' 15 s start-to-close.
   */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).default(12_000),
  /** Limit on opening a connection, and on waiting for a free one of the pool (pg `connectionTimeoutMillis`), in ms; 0: none. */
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
  /** Idle time before TCP keep-alive probes a pooled connection (then every 1 s, 10 probes), in ms. */
  DATABASE_KEEPALIVE_DELAY_MS: positiveMs.default(10_000),
  /**
   * Largest point balance a user may have, in points: a top-up that would take a balance
   * above it is refused (422 `BalanceLimitExceeded`). Refunds are never refused. At most 2^50.
   */
  POINTS_BALANCE_LIMIT: z.coerce.number().int().min(1).max(2 ** 50).default(1_000_000_000),
  /**
   * Largest total of one order, in won (422 `OrderTooLarge`); at most POINTS_BALANCE_LIMIT,
   * since an order is paid from one balance.
   */
  ORDER_TOTAL_LIMIT_WON: z.coerce.number().int().min(1).max(2 ** 50).default(1_000_000_000),
  /** host:port of the Temporal frontend (gRPC). */
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('sagas'),
  /** Port of the Temporal Web UI that the dev server serves. */
  TEMPORAL_UI_PORT: port.default(8233),
  /** Path of a `temporal` CLI binary; else PATH, then the cached build in .tools/. */
  TEMPORAL_CLI_PATH: z.string().optional(),
  TASK_QUEUE: z.string().min(1).default('sagas'),
  /** Path of a `temporal-server` binary (the real server, `npm run temporal:cluster`); else PATH, then the cached build in .tools/. */
  TEMPORAL_SERVER_PATH: z.string().optional(),
  /** Path of a `temporal-sql-tool` binary (creates and migrates the cluster's schemas); else PATH, then the cached build in .tools/. */
  TEMPORAL_SQL_TOOL_PATH: z.string().optional(),
  /**
   * `npm run temporal:cluster`: `ip:port` of the real server's gRPC frontend. Its other
   * ports follow from this one (scripts/temporal-cluster.ts `clusterPorts`); the default
   * stays clear of the dev server's 7233, so both run side by side.
   */
  TEMPORAL_CLUSTER_ADDRESS: z.string().min(1).default('127.0.0.1:7235'),
  /** The real server's Prometheus endpoint (`http://<address>/metrics`), `ip:port`; empty turns it off. */
  TEMPORAL_CLUSTER_METRICS_ADDRESS: metricsAddress.default('127.0.0.1:9466'),
  /** PostgreSQL server and database of the real server's persistence (both databases are created and migrated by `npm run temporal:cluster`). */
  TEMPORAL_CLUSTER_DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/temporal'),
  /** Database of the real server's visibility store (SQL visibility), on the server of TEMPORAL_CLUSTER_DATABASE_URL. */
  TEMPORAL_CLUSTER_VISIBILITY_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case SQL identifier').default('temporal_visibility'),
  /**
   * Tests: `host:port` of a running Temporal server that the suites use instead of a dev
   * server per file (`npm run test:cluster` sets it to the cluster it starts); empty: a
   * dev server per file.
   */
  TEST_TEMPORAL_ADDRESS: z.string().default(''),
  /** Tests: the namespace on TEST_TEMPORAL_ADDRESS, registered with the sagas' search attributes. */
  TEST_TEMPORAL_NAMESPACE: z.string().min(1).default('sagas'),
  /**
   * Connect to Temporal over TLS with the system's root certificates. Implied by
   * TEMPORAL_TLS_CERT_PATH/KEY_PATH, TEMPORAL_TLS_CA_PATH or TEMPORAL_API_KEY.
   */
  TEMPORAL_TLS: flag,
  /** mTLS client certificate (PEM file), e.g. a Temporal Cloud namespace's; needs TEMPORAL_TLS_KEY_PATH. */
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  /** Private key (PEM file) of TEMPORAL_TLS_CERT_PATH. */
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  /** CA certificate (PEM file) that signed the server's certificate, for a self-hosted cluster with a private CA. */
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  /** TLS server name to verify instead of the host of TEMPORAL_ADDRESS. */
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  /** Temporal Cloud API key, sent as a bearer token (implies TLS). A secret: never logged. */
  TEMPORAL_API_KEY: z.string().optional(),
  /**
   * Worker: prebuilt workflow bundle to load instead of bundling workflows/ at start-up.
   * The compiled worker (dist/worker/main.js) uses dist/workflow-bundle.js without it.
   */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  /**
   * API: `ip:port` of its Prometheus endpoint (`http://<address>/metrics`), a listener of
   * its own, apart from the public API port (which answers 404 for /metrics); empty turns
   * it off. Loopback by default; next to the worker's 9464, so `npm start` runs both.
   */
  API_METRICS_ADDRESS: metricsAddress.default('127.0.0.1:9465'),
  /**
   * How new order sagas run their database steps: `local` (local activities, inside the
   * workflow task) or `remote` (normal activities, one round trip each). See common/orders.ts.
   */
  ORDER_STEP_ACTIVITIES: z.enum(['local', 'remote']).default('local'),
  /** How long POST /orders waits for the business outcome before answering 202, in ms. */
  ORDER_OUTCOME_WAIT_MS: positiveMs.default(5000),
  /** Default hold of a seat reservation, in seconds (per request: `holdSeconds`, 1..1800). */
  RESERVATION_HOLD_SECONDS: z.coerce.number().int().min(1).max(1800).default(300),
  /** Largest accepted JSON request body, in bytes. */
  API_BODY_LIMIT_BYTES: positiveMs.default(64 * 1024),
  DATA_PLATFORM_URL: z.url().default('http://127.0.0.1:4100'),
  DATA_PLATFORM_HOST: z.string().default('127.0.0.1'),
  DATA_PLATFORM_PORT: port.default(4100),
  /** Per-request timeout of the data platform client, in ms. */
  DATA_PLATFORM_TIMEOUT_MS: positiveMs.default(10_000),
  /** Mock data platform: added latency per request, in ms. */
  DATA_PLATFORM_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  /** Mock data platform: share of requests answered with 500, 0..1. */
  DATA_PLATFORM_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  /** Mock data platform: answer every request with 503. */
  DATA_PLATFORM_DOWN: flag,
  /**
   * Mock data platform: the append-only JSON-lines file it keeps what it received in, so
   * that its restarts forget nothing (relative paths from the working directory, the repo
   * under npm scripts); empty: in memory only, lost when it stops.
   */
  DATA_PLATFORM_STORE_PATH: z.string().default('.data-platform/events.jsonl'),
  /**
   * Worker: the outbox relay (worker/outbox-relay.ts) claims at most this many pending
   * data-platform events per batch; a full batch is followed by the next one at once.
   */
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  /**
   * Worker: how long a claimed batch stays the relay's own, in ms. A relay that dies
   * mid-batch holds its events this long; then any relay delivers them.
   */
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /**
   * Worker: the outbox relay's safety poll, in ms. It wakes on every new event (PostgreSQL
   * NOTIFY) and at the next retry's moment; this poll only bounds how late it notices anything else.
   */
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
  /** Worker: concurrent activity executions. */
  WORKER_MAX_ACTIVITIES: z.coerce.number().int().positive().default(100),
  /** Worker: concurrent workflow task executions. */
  WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().positive().default(40),
  /** Worker: concurrent local activity executions (the sagas' database steps when run locally). */
  WORKER_MAX_LOCAL_ACTIVITIES: z.coerce.number().int().positive().default(100),
  /** Worker: workflow executions kept in its cache (sticky); empty: the SDK's default, from the heap size. */
  WORKER_MAX_CACHED_WORKFLOWS: optionalCount,
  /** Worker: concurrent workflow task polls; empty: the SDK's default (min(10, WORKER_MAX_WORKFLOW_TASKS)). */
  WORKER_WORKFLOW_TASK_POLLERS: optionalCount,
  /** Worker: concurrent activity task polls; empty: the SDK's default (min(10, WORKER_MAX_ACTIVITIES)). */
  WORKER_ACTIVITY_TASK_POLLERS: optionalCount,
  /** Worker: how long to let running activities finish on SIGTERM, in ms. */
  WORKER_SHUTDOWN_GRACE_MS: positiveMs.default(10_000),
  /**
   * Worker: `ip:port` of its Prometheus endpoint (`http://<address>/metrics`), served by
   * the Temporal Runtime; empty turns it off. An IP literal: the Runtime resolves no names.
   */
  WORKER_METRICS_ADDRESS: metricsAddress.default('127.0.0.1:9464'),
  /**
   * Worker: how often the reconciliation Schedule runs `reconcileSagas`, in ms (default one
   * minute); 0 turns it off (the worker deletes the Schedule at start-up).
   */
  RECONCILIATION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || v >= 1_000, 'expected 0 (off) or at least 1000 ms (a Schedule counts whole seconds)')
    .default(60_000),
  /** Reconciliation: a PENDING order older than this (ms since created) whose workflow is closed or missing is an orphan. */
  RECONCILIATION_ORDER_GRACE_MS: positiveMs.default(DEFAULT_ORDER_GRACE_MS),
  /** Reconciliation: a PENDING reservation this long (ms) past its hold's expiry whose workflow is closed or missing is an orphan. */
  RECONCILIATION_RESERVATION_GRACE_MS: positiveMs.default(DEFAULT_RESERVATION_GRACE_MS),
  /** Reconciliation: most orphans of each kind looked at per run. */
  RECONCILIATION_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /**
   * API: the server secret that order, reservation and top-up ids derived from an
   * Idempotency-Key are keyed with (HMAC-SHA256, api/idempotency.ts), at least 32
   * characters; a secret: never logged. Required when NODE_ENV is `production`; elsewhere
   * unset means {@link DEV_IDEMPOTENCY_SECRET}. Changing it changes every derived id: a
   * request repeated with an old key then starts a new saga.
   */
  IDEMPOTENCY_SECRET: z
    .string()
    .optional()
    .refine((v) => !v || v.length >= 32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  /**
   * Waiting queue (issue 15): most ACTIVE queue tokens per performance at any instant. A
   * token becomes ACTIVE in arrival order when a slot is free; holding seats and paying
   * need an ACTIVE token.
   */
  QUEUE_ACTIVE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(50),
  /** Waiting queue: how long an ACTIVE token stays active, in seconds, unless its reservation is paid or it is cancelled first. */
  QUEUE_ACTIVE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  /**
   * Worker: the admission driver's safety poll, in ms. It wakes on every freed slot
   * (PostgreSQL NOTIFY) and at the next token's `activeUntil`; this poll only bounds how
   * late it notices anything else.
   */
  QUEUE_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Most live seat holds (PENDING reservations whose hold has not expired) one user may have at once (409 `HoldLimitExceeded`). */
  RESERVATION_MAX_LIVE_HOLDS: z.coerce.number().int().min(1).max(10_000).default(4),
  /** Most seats one user may hold at once over all of their live holds (409 `HoldLimitExceeded`). */
  RESERVATION_MAX_HELD_SEATS: z.coerce.number().int().min(1).max(100_000).default(8),
  /**
   * API: most writes (POST, DELETE, any method but GET/HEAD/OPTIONS) one caller may send
   * per minute, counted per API process (429 `RateLimited` with `Retry-After`); 0 turns it off.
   */
  RATE_LIMIT_WRITES_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  /**
   * API: run the built-in development token issuer (an ES256 key pair in
   * AUTH_DEV_KEYS_DIR, its JWKS at `GET /.well-known/jwks.json`, tokens from
   * `npm run token`) and trust only its tokens. Unset or empty: on when NODE_ENV is
   * `development` or `test`, off in `production` (where it needs AUTH_DEV_ISSUER_IN_PRODUCTION).
   */
  AUTH_DEV_ISSUER: z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).optional(),
  /** API: allow the development issuer when NODE_ENV is `production` (anyone who can read its key folder can mint tokens). */
  AUTH_DEV_ISSUER_IN_PRODUCTION: flag,
  /** Folder of the development issuer's key pair (git-ignored); default `.auth` (`.auth/test` when NODE_ENV is `test`). */
  AUTH_DEV_KEYS_DIR: z.string().optional(),
  /** API: the identity provider's JWKS (public keys) URL, e.g. `https://idp.example.com/.well-known/jwks.json`; required without the development issuer. */
  AUTH_JWKS_URL: z.union([z.literal(''), z.url()]).optional(),
  /** API: the `iss` every token must carry; required without the development issuer. */
  AUTH_ISSUER: z.string().optional(),
  /** API: the `aud` every token must carry (this API's identifier at the provider); required without the development issuer. */
  AUTH_AUDIENCE: z.string().optional(),
  /** API: the claim listing the caller's roles (an array, or a space-separated string). */
  AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** API: the role (in AUTH_ROLES_CLAIM) that makes a caller an operator. */
  AUTH_OPERATOR_ROLE: z.string().min(1).default('operator'),
  /** API: clock skew accepted on `exp` and `nbf`, in seconds. */
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /**
   * OpenTelemetry tracing (config/tracing.ts): the OTLP collector's base URL, e.g.
   * `http://otel-collector:4318`; spans go to `<url>/v1/traces`. Unset or empty: tracing is
   * off (no SDK, no instrumentation, no interceptors).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.union([z.literal(''), z.url()]).optional(),
  /** Tracing: the OTLP encoding over HTTP, `http/protobuf` (default) or `http/json`. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json', '']).optional(),
  /** Tracing: headers sent with every export, `key=value` pairs separated by commas (e.g. a vendor's API key); a secret. */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  /** Tracing: the `service.name` of this process's spans; default `sagas-api` or `sagas-worker`. */
  OTEL_SERVICE_NAME: z.string().optional(),
}).superRefine((e, ctx) => {
  if (e.NODE_ENV === 'production' && (!e.IDEMPOTENCY_SECRET || e.IDEMPOTENCY_SECRET === DEV_IDEMPOTENCY_SECRET)) {
    ctx.addIssue({
      code: 'custom',
      path: ['IDEMPOTENCY_SECRET'],
      message: 'required when NODE_ENV is production: a random secret of at least 32 characters (e.g. `openssl rand -hex 32`), the same on every API replica',
    });
  }
  if (e.ORDER_TOTAL_LIMIT_WON > e.POINTS_BALANCE_LIMIT) {
    ctx.addIssue({
      code: 'custom',
      path: ['ORDER_TOTAL_LIMIT_WON'],
      message: 'must be at most POINTS_BALANCE_LIMIT: an order is paid from one point balance',
    });
  }
  if (Boolean(e.TEMPORAL_TLS_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_KEY_PATH)) {
    ctx.addIssue({
      code: 'custom',
      path: [e.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH'],
      message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together: set both or neither',
    });
  }
});

/** The parsed environment: every variable of {@link EnvSchema} with its default applied. */
export type Env = z.infer<typeof EnvSchema>;

/**
 * The only module that reads `process.env`. Every process (API, worker, mock data
 * platform, scripts, tests) gets its settings from {@link loadConfig}, which validates
 * the environment with zod and returns one frozen, typed object with local defaults, so
 * `npm start` works on a fresh machine without any variable set.
 */
import type { QueueSettings } from '../common/queue.ts';
import { authSettings, type AuthSettings } from './auth.ts';
import { DEV_IDEMPOTENCY_SECRET, EnvSchema, type Env } from './env.ts';

export { assertApiAuthSettings, DEV_AUDIENCE, DEV_ISSUER, type AuthSettings } from './auth.ts';

/** Every environment variable {@link loadConfig} reads (for checks of deployment files). */
export const CONFIG_ENV_KEYS: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

/** The validated, frozen settings of a process. Units are in the field names (ms, bytes). */
export type AppConfig = Readonly<{
  env: 'development' | 'test' | 'production';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How config/logger.ts writes: human-readable lines or JSON lines (`LOG_FORMAT`). */
  logFormat: LogFormat;
  database: Readonly<{
    url: string;
    testUrl: string;
    poolMax: number;
    /** Bounded waits of every connection (db/mikro-orm.config.ts `DbTimeouts`), in ms; 0: off. */
    statementTimeoutMs: number;
    queryTimeoutMs: number;
    connectTimeoutMs: number;
    keepAliveDelayMs: number;
  }>;
  /** Business limits on money: a balance's cap in points, an order's total in won. */
  limits: Readonly<{ balancePoints: number; orderTotalWon: number }>;
  /** Per-user caps on live seat holds (PENDING reservations not yet expired) and the seats they hold. */
  holdLimits: Readonly<{ maxLiveHolds: number; maxHeldSeats: number }>;
  /**
   * The waiting queue: at most `activeLimit` ACTIVE tokens per performance, each active
   * for `activeMs` (ms); the admission driver's safety poll every `pollMs` (ms).
   */
  queue: QueueSettings & Readonly<{ pollMs: number }>;
  /**
   * The server secret of the ids derived from Idempotency-Keys (api/idempotency.ts);
   * `developmentDefault`: IDEMPOTENCY_SECRET was unset and the public development secret is used.
   */
  idempotency: Readonly<{ secret: string; developmentDefault: boolean }>;
  /** Per-caller rate limit of the API's writes, per API process; 0: off. */
  rateLimit: Readonly<{ writesPerMinute: number }>;
  temporal: Readonly<{
    address: string;
    namespace: string;
    taskQueue: string;
    uiPort: number;
    cliPath: string | undefined;
    /** Explicit `temporal-server` and `temporal-sql-tool` binaries (else PATH, then .tools/bin). */
    serverPath: string | undefined;
    sqlToolPath: string | undefined;
    /** TLS settings, or `undefined` for a plaintext connection (the dev server, docker-compose). */
    tls: TemporalTlsSettings | undefined;
    /** Temporal Cloud API key; a secret. */
    apiKey: string | undefined;
  }>;
  /**
   * The real Temporal server on PostgreSQL that `npm run temporal:cluster` and
   * `npm run test:cluster` run (scripts/temporal-cluster.ts).
   */
  cluster: Readonly<{
    /** `ip:port` of its gRPC frontend; the other service ports follow from it. */
    address: string;
    /** `ip:port` of its Prometheus endpoint; undefined when turned off. */
    metricsAddress: string | undefined;
    /** PostgreSQL URL of its persistence database; the visibility database is on the same server. */
    databaseUrl: string;
    visibilityDatabase: string;
  }>;
  /** Where the suites find Temporal: `address` undefined means a dev server per test file. */
  testTemporal: Readonly<{ address: string | undefined; namespace: string }>;
  api: Readonly<{
    host: string;
    port: number;
    orderOutcomeWaitMs: number;
    bodyLimitBytes: number;
    reservationHoldSeconds: number;
    /** How new order sagas run their database steps (`stepActivities` of their input). */
    orderStepActivities: 'local' | 'remote';
    /** `ip:port` of the API's Prometheus listener (config/metrics-address.ts); undefined when turned off. */
    metricsAddress: string | undefined;
  }>;
  dataPlatform: Readonly<{
    url: string;
    host: string;
    port: number;
    timeoutMs: number;
    latencyMs: number;
    failureRate: number;
    down: boolean;
    /** The mock's JSON-lines event file (`DATA_PLATFORM_STORE_PATH`); undefined: in memory. */
    storePath: string | undefined;
  }>;
  /**
   * The outbox relay (worker/outbox-relay.ts): events claimed per batch, how long a claim
   * lasts (`leaseMs`, ms) and the safety poll (`pollMs`, ms).
   */
  outbox: Readonly<{ batchSize: number; leaseMs: number; pollMs: number }>;
  worker: Readonly<{
    maxActivities: number;
    maxWorkflowTasks: number;
    maxLocalActivities: number;
    /** Workflow cache size; undefined: the SDK's default. */
    maxCachedWorkflows: number | undefined;
    /** Concurrent workflow / activity task polls; undefined: the SDK's defaults. */
    workflowTaskPollers: number | undefined;
    activityTaskPollers: number | undefined;
    shutdownGraceMs: number;
    /** `host:port` of the worker's Prometheus endpoint; undefined when turned off. */
    metricsAddress: string | undefined;
    /** Prebuilt workflow bundle to load, from WORKFLOW_BUNDLE_PATH. */
    workflowBundlePath: string | undefined;
  }>;
  /** How the API authenticates bearer tokens (api/auth/); see {@link AuthSettings}. */
  auth: AuthSettings;
  /** The reconciliation Schedule and what counts as an orphan (see docs/operations.md). */
  reconciliation: Readonly<{
    /** Interval of the Schedule in ms; 0: no Schedule. */
    intervalMs: number;
    orderGraceMs: number;
    reservationGraceMs: number;
    batchSize: number;
  }>;
  /** OpenTelemetry tracing (config/tracing.ts); see {@link TracingSettings}. */
  tracing: TracingSettings;
}>;

/**
 * Where and how a process exports its spans over OTLP/HTTP. `endpoint` undefined: tracing
 * is off, and nothing of OpenTelemetry is loaded or installed.
 */
export type TracingSettings = Readonly<{
  /** The collector's base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces`. */
  endpoint: string | undefined;
  protocol: 'http/protobuf' | 'http/json';
  /** Headers of every export request (`OTEL_EXPORTER_OTLP_HEADERS`); secrets, never logged. */
  headers: Readonly<Record<string, string>>;
  /** `service.name` of the spans (`OTEL_SERVICE_NAME`); undefined: the process's own (`sagas-api`, `sagas-worker`). */
  serviceName: string | undefined;
}>;

/** Output format of the logs: `pretty` for a terminal, `json` for machines. */
export type LogFormat = 'pretty' | 'json';

/** How to reach Temporal over TLS; the paths are PEM files, read when connecting. */
export type TemporalTlsSettings = Readonly<{
  /** mTLS client certificate and its key; both or neither. */
  certPath: string | undefined;
  keyPath: string | undefined;
  /** Root CA of the server's certificate; `undefined`: the system's roots (Temporal Cloud). */
  caPath: string | undefined;
  /** Server name to verify instead of the address's host. */
  serverName: string | undefined;
}>;

/**
 * Parses an environment (default: `process.env`) into an {@link AppConfig}.
 * `stdoutIsTerminal` (default: whether this process's stdout is a TTY) picks the log
 * format when `LOG_FORMAT` is unset.
 *
 * @throws Error listing every invalid variable by name, so a bad deployment fails at
 *   start-up rather than on the first request.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsTerminal: boolean = process.stdout.isTTY === true,
): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return deepFreeze({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT || (stdoutIsTerminal && e.NODE_ENV !== 'test' ? 'pretty' : 'json'),
    database: {
      url: e.DATABASE_URL,
      testUrl: e.TEST_DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      keepAliveDelayMs: e.DATABASE_KEEPALIVE_DELAY_MS,
    },
    limits: { balancePoints: e.POINTS_BALANCE_LIMIT, orderTotalWon: e.ORDER_TOTAL_LIMIT_WON },
    holdLimits: { maxLiveHolds: e.RESERVATION_MAX_LIVE_HOLDS, maxHeldSeats: e.RESERVATION_MAX_HELD_SEATS },
    queue: { activeLimit: e.QUEUE_ACTIVE_LIMIT, activeMs: e.QUEUE_ACTIVE_SECONDS * 1000, pollMs: e.QUEUE_POLL_MS },
    idempotency: { secret: e.IDEMPOTENCY_SECRET || DEV_IDEMPOTENCY_SECRET, developmentDefault: !e.IDEMPOTENCY_SECRET },
    rateLimit: { writesPerMinute: e.RATE_LIMIT_WRITES_PER_MINUTE },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      cliPath: e.TEMPORAL_CLI_PATH || undefined,
      serverPath: e.TEMPORAL_SERVER_PATH || undefined,
      sqlToolPath: e.TEMPORAL_SQL_TOOL_PATH || undefined,
      tls: temporalTls(e),
      apiKey: e.TEMPORAL_API_KEY || undefined,
    },
    cluster: {
      address: e.TEMPORAL_CLUSTER_ADDRESS,
      metricsAddress: e.TEMPORAL_CLUSTER_METRICS_ADDRESS || undefined,
      databaseUrl: e.TEMPORAL_CLUSTER_DATABASE_URL,
      visibilityDatabase: e.TEMPORAL_CLUSTER_VISIBILITY_DATABASE,
    },
    testTemporal: { address: e.TEST_TEMPORAL_ADDRESS || undefined, namespace: e.TEST_TEMPORAL_NAMESPACE },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      orderOutcomeWaitMs: e.ORDER_OUTCOME_WAIT_MS,
      bodyLimitBytes: e.API_BODY_LIMIT_BYTES,
      reservationHoldSeconds: e.RESERVATION_HOLD_SECONDS,
      orderStepActivities: e.ORDER_STEP_ACTIVITIES,
      metricsAddress: e.API_METRICS_ADDRESS || undefined,
    },
    dataPlatform: {
      url: e.DATA_PLATFORM_URL,
      host: e.DATA_PLATFORM_HOST,
      port: e.DATA_PLATFORM_PORT,
      timeoutMs: e.DATA_PLATFORM_TIMEOUT_MS,
      latencyMs: e.DATA_PLATFORM_LATENCY_MS,
      failureRate: e.DATA_PLATFORM_FAILURE_RATE,
      down: e.DATA_PLATFORM_DOWN,
      storePath: e.DATA_PLATFORM_STORE_PATH || undefined,
    },
    outbox: { batchSize: e.OUTBOX_BATCH_SIZE, leaseMs: e.OUTBOX_LEASE_MS, pollMs: e.OUTBOX_POLL_MS },
    worker: {
      maxActivities: e.WORKER_MAX_ACTIVITIES,
      maxWorkflowTasks: e.WORKER_MAX_WORKFLOW_TASKS,
      maxLocalActivities: e.WORKER_MAX_LOCAL_ACTIVITIES,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      workflowTaskPollers: e.WORKER_WORKFLOW_TASK_POLLERS,
      activityTaskPollers: e.WORKER_ACTIVITY_TASK_POLLERS,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
      metricsAddress: e.WORKER_METRICS_ADDRESS || undefined,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH || undefined,
    },
    auth: authSettings(e),
    reconciliation: {
      intervalMs: e.RECONCILIATION_INTERVAL_MS,
      orderGraceMs: e.RECONCILIATION_ORDER_GRACE_MS,
      reservationGraceMs: e.RECONCILIATION_RESERVATION_GRACE_MS,
      batchSize: e.RECONCILIATION_BATCH_SIZE,
    },
    tracing: {
      endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
      protocol: e.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf',
      headers: otlpHeaders(e.OTEL_EXPORTER_OTLP_HEADERS),
      serviceName: e.OTEL_SERVICE_NAME || undefined,
    },
  });
}

/** `k1=v1,k2=v2` (the OTLP exporters' header list; values may be percent-encoded) as a record. */
function otlpHeaders(list: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (list ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const value = pair.slice(at + 1).trim();
    try {
      headers[pair.slice(0, at).trim()] = decodeURIComponent(value);
    } catch {
      headers[pair.slice(0, at).trim()] = value;
    }
  }
  return headers;
}

/** TLS is on when asked for, or when a client certificate, a CA or an API key (Cloud) implies it. */
function temporalTls(e: Env): TemporalTlsSettings | undefined {
  const settings = {
    certPath: e.TEMPORAL_TLS_CERT_PATH || undefined,
    keyPath: e.TEMPORAL_TLS_KEY_PATH || undefined,
    caPath: e.TEMPORAL_TLS_CA_PATH || undefined,
    serverName: e.TEMPORAL_TLS_SERVER_NAME || undefined,
  };
  const on = e.TEMPORAL_TLS || Boolean(settings.certPath || settings.caPath || e.TEMPORAL_API_KEY);
  return on ? settings : undefined;
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) {
    if (v && typeof v === 'object') deepFreeze(v);
  }
  return Object.freeze(value);
}

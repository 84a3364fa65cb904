/**
 * The real Temporal server on PostgreSQL, locally (`npm run temporal:cluster`), and as a
 * library for the suites and tools that need it (`npm run test:cluster`, a kill test, a
 * benchmark): finds or builds `temporal-server` and `temporal-sql-tool`
 * (scripts/temporal-server.ts), creates and migrates the `temporal` and
 * `temporal_visibility` databases (deploy/temporal/schema.sh), starts all four services
 * in one process on deploy/temporal/config.yaml and dynamicconfig.yaml (the files
 * docker-compose.yml runs too), registers the namespace and the sagas' search
 * attributes, and waits until a visibility query on them succeeds.
 *
 * Ports: the frontend's gRPC port F (default 7235, clear of the dev server's 7233) and
 * the rest derived from it, see {@link clusterPorts}.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig, type AppConfig } from '../config/index.ts';
import type { Logger } from '../config/logger.ts';
import { REPO_ROOT } from './temporal-cli.ts';
import {
  DEPLOY_DIR,
  databaseParts,
  dropDatabases,
  migrateSchemas,
  registerNamespace,
  type ClusterDatabases,
} from './temporal-cluster-setup.ts';
import { canConnect, parseAddress } from './temporal-dev-server.ts';
import { parseServerLogLine } from './temporal-dev-server-log.ts';
import { findTemporalServer, type TemporalServerBinaries } from './temporal-server.ts';

/** Every port the server's four services listen on (membership: their gossip ring). */
export type ClusterPorts = {
  frontendGrpc: number;
  frontendHttp: number;
  frontendMembership: number;
  historyGrpc: number;
  historyMembership: number;
  matchingGrpc: number;
  matchingMembership: number;
  workerGrpc: number;
  workerMembership: number;
};

/**
 * The ports of a cluster whose frontend listens on `frontendGrpc` (F): history, matching
 * and the worker service on F+1, F+2, F+3, the frontend's HTTP API on F+10, and the
 * membership ports 300 below each gRPC port. F=7235 gives 7235-7238, 7245 and 6935-6938.
 */
export function clusterPorts(frontendGrpc: number): ClusterPorts {
  return {
    frontendGrpc,
    frontendHttp: frontendGrpc + 10,
    frontendMembership: frontendGrpc - 300,
    historyGrpc: frontendGrpc + 1,
    historyMembership: frontendGrpc + 1 - 300,
    matchingGrpc: frontendGrpc + 2,
    matchingMembership: frontendGrpc + 2 - 300,
    workerGrpc: frontendGrpc + 3,
    workerMembership: frontendGrpc + 3 - 300,
  };
}

/** What the server's config template (deploy/temporal/config.yaml) needs to know. */
export type ServerSettings = {
  host: string;
  ports: ClusterPorts;
  databases: ClusterDatabases;
  /** `ip:port` of the Prometheus endpoint, or undefined for none. */
  metricsAddress: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
};

/**
 * The environment of the server process: the variables of deploy/temporal/config.yaml,
 * nothing inherited from this process but PATH and HOME (so a LOG_LEVEL meant for our
 * processes never reaches the server's).
 */
export function serverEnvironment(s: ServerSettings): Record<string, string> {
  const db = databaseParts(s.databases);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TEMPORAL_SERVER_CONFIG_FILE_PATH: path.join(DEPLOY_DIR, 'config.yaml'),
    DYNAMIC_CONFIG_FILE_PATH: path.join(DEPLOY_DIR, 'dynamicconfig.yaml'),
    // No authorizer: the frontend is on loopback, as the dev server's is.
    TEMPORAL_ALLOW_NO_AUTH: 'true',
    LOG_LEVEL: s.logLevel,
    POSTGRES_SEEDS: db.host,
    DB_PORT: db.port,
    POSTGRES_USER: db.user,
    POSTGRES_PWD: db.password,
    DBNAME: db.persistence,
    VISIBILITY_DBNAME: db.visibility,
    SQL_MAX_CONNS: '10',
    SQL_MAX_IDLE_CONNS: '10',
    SQL_VIS_MAX_CONNS: '5',
    SQL_VIS_MAX_IDLE_CONNS: '5',
    BIND_ON_IP: s.host,
    FRONTEND_GRPC_PORT: String(s.ports.frontendGrpc),
    FRONTEND_HTTP_PORT: String(s.ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(s.ports.frontendMembership),
    HISTORY_GRPC_PORT: String(s.ports.historyGrpc),
    HISTORY_MEMBERSHIP_PORT: String(s.ports.historyMembership),
    MATCHING_GRPC_PORT: String(s.ports.matchingGrpc),
    MATCHING_MEMBERSHIP_PORT: String(s.ports.matchingMembership),
    WORKER_GRPC_PORT: String(s.ports.workerGrpc),
    WORKER_MEMBERSHIP_PORT: String(s.ports.workerMembership),
  };
  if (s.metricsAddress) env.PROMETHEUS_ENDPOINT = s.metricsAddress;
  return env;
}

/** Options of {@link startTemporalCluster}; every one has a default from `config`. */
export type StartTemporalClusterOptions = {
  /** Receives progress, and the server's own log lines at or above `serverLogLevel`. */
  log: Logger;
  /** Settings to start from. Default: `loadConfig()` (TEMPORAL_CLUSTER_*, TEMPORAL_SERVER_PATH, ...). */
  config?: Pick<AppConfig, 'temporal' | 'cluster'>;
  /** `ip:port` of the frontend. Default `config.cluster.address` (127.0.0.1:7235). */
  address?: string;
  /** Ports to use instead of those derived from the frontend's ({@link clusterPorts}). */
  ports?: Partial<ClusterPorts>;
  /** `ip:port` of the server's Prometheus endpoint; `null`: none. Default `config.cluster.metricsAddress`. */
  metricsAddress?: string | null;
  /** The two databases. Default `config.cluster.databaseUrl` and `config.cluster.visibilityDatabase`. */
  databases?: ClusterDatabases;
  /** Drop both databases first, for a run that starts from nothing. Default `false`. */
  fresh?: boolean;
  /** Namespace to register with the sagas' search attributes. Default `config.temporal.namespace` (sagas). */
  namespace?: string;
  /** Build the binaries with Go when missing. Default `true`. */
  build?: boolean;
  /** Lowest level of the server's log lines passed to `log`. Default `warn`. */
  serverLogLevel?: ServerSettings['logLevel'];
  /** How long the start may take once the binaries are there, in ms. Default 120 000. */
  readyTimeoutMs?: number;
};

/** A running cluster started by {@link startTemporalCluster}. */
export type TemporalCluster = {
  /** `host:port` of the gRPC frontend, for `Connection.connect` / `NativeConnection.connect`. */
  address: string;
  /** The registered namespace, with the sagas' search attributes. */
  namespace: string;
  /** `http://ip:port/metrics` of the server's Prometheus endpoint, or undefined when off. */
  metricsUrl: string | undefined;
  ports: ClusterPorts;
  databases: ClusterDatabases;
  binaries: TemporalServerBinaries;
  /** Process id of `temporal-server`. */
  pid: number;
  /** Milliseconds from spawning the server to ready (namespace and attributes usable). */
  startMs: number;
  /** The server's last 50 output lines (for a failure message). */
  lastOutput(): string[];
  /** Stops the server (SIGTERM, SIGKILL after 30 s) and resolves once it has exited; idempotent. */
  stop(): Promise<void>;
};

/**
 * Starts the real Temporal server on PostgreSQL and resolves once the namespace serves a
 * visibility query on the sagas' search attributes. Finds or builds the binaries
 * (minutes on a cold Go cache: progress goes to `log`), creates and migrates the
 * databases (idempotent), registers the namespace and attributes (idempotent).
 *
 * @throws Error when the frontend's port is already taken (another cluster?), when the
 *   binaries cannot be found or built, when the schema set-up fails, or when the server
 *   exits or is not ready within `readyTimeoutMs` (the message holds its last output).
 */
export async function startTemporalCluster(opts: StartTemporalClusterOptions): Promise<TemporalCluster> {
  const { log } = opts;
  const config = opts.config ?? loadConfig();
  const address = opts.address ?? config.cluster.address;
  const { host, port } = parseAddress(address);
  const ports = { ...clusterPorts(port), ...opts.ports };
  const databases = opts.databases ?? { url: config.cluster.databaseUrl, visibility: config.cluster.visibilityDatabase };
  const metricsAddress = opts.metricsAddress === null ? undefined : (opts.metricsAddress ?? config.cluster.metricsAddress);
  const namespace = opts.namespace ?? config.temporal.namespace;

  if (await canConnect(host, ports.frontendGrpc)) {
    throw new Error(`Something already listens on ${address}: stop it, or start the cluster on another port (TEMPORAL_CLUSTER_ADDRESS).`);
  }
  const binaries = await findTemporalServer({
    serverPath: config.temporal.serverPath,
    sqlToolPath: config.temporal.sqlToolPath,
    build: opts.build,
    progress: (m) => log.info(m),
  });
  if (opts.fresh) await dropDatabases(databases);
  const migrated = Date.now();
  await migrateSchemas(binaries.sqlTool, databases, log);
  log.info({ databases: [databaseParts(databases).persistence, databases.visibility], ms: Date.now() - migrated }, 'Temporal schemas up to date');

  const env = serverEnvironment({ host, ports, databases, metricsAddress, logLevel: opts.serverLogLevel ?? 'warn' });
  const started = Date.now();
  const child = spawn(binaries.server, ['start'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const output = forwardServerOutput(child.stdout, child.stderr, log);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      output.quiet = true;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      try {
        await exited;
      } finally {
        clearTimeout(killTimer);
      }
    })();
    return stopping;
  };

  const deadline = started + (opts.readyTimeoutMs ?? 120_000);
  const exitedEarly = exited.then(([code, signal]) => {
    throw new Error(`temporal-server exited during start-up (${signal ?? `exit ${code}`})`);
  });
  // Once ready, a later exit is the caller's business, not an unhandled rejection.
  exitedEarly.catch(() => {});
  try {
    await Promise.race([registerNamespace(address, namespace, deadline), exitedEarly]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nLast output of temporal-server:\n${output.last.join('\n')}`);
  }
  const startMs = Date.now() - started;
  const metricsUrl = metricsAddress ? `http://${metricsAddress}/metrics` : undefined;
  log.info({ address, namespace, metricsUrl, startMs, pid: child.pid }, 'Temporal server (PostgreSQL) ready');
  return {
    address,
    namespace,
    metricsUrl,
    ports,
    databases,
    binaries,
    pid: child.pid!,
    startMs,
    lastOutput: () => [...output.last],
    stop,
  };
}

/** Forwarded output of the server: its last 50 lines, and whether to log them at debug only. */
type ServerOutput = { last: string[]; quiet: boolean };

/**
 * Passes the server's lines (zap JSON: level, msg, fields) to `log` under
 * `source: temporal-server`, at debug once `quiet` (a stopping server reports its
 * services going away); keeps the last 50 lines.
 */
function forwardServerOutput(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream, log: Logger): ServerOutput {
  const output: ServerOutput = { last: [], quiet: false };
  const pipe = (stream: NodeJS.ReadableStream, level: 'info' | 'warn') => {
    createInterface({ input: stream }).on('line', (line) => {
      if (!line.trim()) return;
      output.last.push(line);
      if (output.last.length > 50) output.last.shift();
      // Plain lines on stderr are Go's standard logger (`2026/12/05 10:00:00 Loading config...`), not warnings.
      const plainLevel = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /.test(line) ? 'info' : level;
      const entry = parseServerLogLine(line) ?? { level: plainLevel, msg: line, fields: {} };
      const { ts: _ts, 'logging-call-at': _at, ...fields } = entry.fields;
      log[output.quiet ? 'debug' : entry.level]({ source: 'temporal-server', ...fields }, entry.msg);
    });
  };
  pipe(stdout, 'info');
  pipe(stderr, 'warn');
  return output;
}

async function main(): Promise<void> {
  const { createLogger } = await import('../config/logger.ts');
  const config = loadConfig();
  const log = createLogger(config, 'temporal-cluster');
  const cluster = await startTemporalCluster({ log, config });
  const db = databaseParts(cluster.databases);
  process.stdout.write(
    [
      `Temporal server (PostgreSQL): ${cluster.address}  namespace: ${cluster.namespace}`,
      `  metrics: ${cluster.metricsUrl ?? 'off'}`,
      `  databases: ${db.persistence}, ${db.visibility} on ${db.host}:${db.port}`,
      `  use it: TEMPORAL_ADDRESS=${cluster.address} npm start   (Ctrl-C stops the server)`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.stop();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

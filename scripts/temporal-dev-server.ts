/**
 * Brings up the local Temporal server (`npm run temporal`): reuses a server already
 * answering on `TEMPORAL_ADDRESS`, or else runs the Temporal CLI dev server with a
 * persistent SQLite file in `.data/temporal/`, the `sagas` namespace, the sagas' custom
 * search attributes ({@link SEARCH_ATTRIBUTES}) and the Web UI, and waits until its gRPC
 * port accepts connections and the namespace answers. The server's output goes to the
 * log through temporal-dev-server-log.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { AppConfig } from '../config/index.ts';
import type { Logger } from '../config/logger.ts';
import { findTemporalCli, REPO_ROOT } from './temporal-cli.ts';
import { forwardOutput, type DevServerOutput } from './temporal-dev-server-log.ts';

/**
 * Custom search attributes the sagas set (common/saga.ts), as `name=type` for the dev
 * server's `--search-attribute`. The single list: docker-compose.yml's `temporal-setup`
 * registers the same ones (test/integration/compose.test.ts checks), and a production
 * namespace needs them too (`temporal operator search-attribute create`).
 */
export const SEARCH_ATTRIBUTES: readonly string[] = [
  'OrderId=Keyword',
  'ReservationId=Keyword',
  'UserId=Keyword',
  'SagaStatus=Keyword',
  'FailedStep=Keyword',
  'CompensatedSteps=KeywordList',
  'HoldExpiresAt=Datetime',
];

/**
 * Performance flags of the dev server, chosen by measurement (`npm run bench`, the lever
 * table of docs/benchmark.md):
 * - SQLite in WAL mode with `synchronous=normal`: a commit does not wait for fsync (the
 *   WAL is synced at checkpoints; a power cut may lose the last transactions, a crash of
 *   the server process loses nothing);
 * - the history service reads its transfer queue up to 1,000 times a second instead of 20,
 *   so a new workflow or activity task reaches matching in a millisecond or two instead of
 *   waiting up to 50 ms (the dev server has a single history shard);
 * - one partition per task queue instead of four: a single dev server gains nothing from
 *   partitions, and with four, tasks and polls are forwarded between them;
 * - eager activity dispatch: an activity scheduled by a workflow task goes back to the
 *   worker in the task's completion response when it has a free slot.
 */
export const DEV_SERVER_TUNING_FLAGS: readonly string[] = [
  '--sqlite-pragma', 'journal_mode=wal',
  '--sqlite-pragma', 'synchronous=normal',
  '--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000',
  '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
  '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
];

/** Default SQLite file of the dev server, relative to the repository root (git-ignored). */
export const DEFAULT_DB_FILE = path.join(REPO_ROOT, '.data', 'temporal', 'temporal.db');

/** A Temporal server that this process can use. */
export type TemporalDevServer = {
  /** `host:port` of the gRPC frontend. */
  address: string;
  /** URL of the Web UI, or `undefined` when a reused server serves none on `uiPort`. */
  uiUrl: string | undefined;
  /** `true` when this call started the server, `false` when it reused a running one. */
  started: boolean;
  /** Stops the server if this call started it (SIGTERM, then SIGKILL after 20 s); idempotent. */
  stop(): Promise<void>;
};

/** Options of {@link startTemporalDevServer}. */
export type StartTemporalDevServerOptions = {
  /** SQLite file holding the server's state. Default {@link DEFAULT_DB_FILE}. */
  dbFile?: string;
  /** How long to wait for the gRPC port, in ms. Default 60 000. */
  readyTimeoutMs?: number;
};

/**
 * Returns a usable Temporal server at `config.temporal.address`, starting
 * `temporal server start-dev` when nothing answers there. The dev server keeps its
 * history in `dbFile` across restarts and registers `config.temporal.namespace` and
 * {@link SEARCH_ATTRIBUTES}. Its output is forwarded to `log`.
 *
 * @throws Error when no Temporal CLI is available (see `findTemporalCli`), when the
 *   server exits during start-up (the message holds its last output lines), or when
 *   the port does not accept connections within `readyTimeoutMs`.
 */
export async function startTemporalDevServer(
  config: Pick<AppConfig, 'temporal'>,
  log: Logger,
  opts: StartTemporalDevServerOptions = {},
): Promise<TemporalDevServer> {
  const { address, namespace, uiPort, cliPath } = config.temporal;
  const { host, port } = parseAddress(address);

  if (await canConnect(host, port)) {
    const uiUrl = (await canConnect(host, uiPort)) ? httpUrl(host, uiPort) : undefined;
    log.info({ address, uiUrl }, 'reusing the Temporal server already listening');
    if ((await namespaceState(address, namespace, Date.now() + 5_000)) === 'missing') {
      log.warn(
        { address, namespace },
        'the running Temporal server has no such namespace; create it with `temporal operator namespace create`',
      );
    }
    return { address, uiUrl, started: false, stop: async () => {} };
  }

  const cli = await findTemporalCli({ cliPath, progress: (m) => log.info(m) });
  const dbFile = path.resolve(opts.dbFile ?? DEFAULT_DB_FILE);
  await mkdir(path.dirname(dbFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', host,
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--namespace', namespace,
    '--db-filename', dbFile,
    ...DEV_SERVER_TUNING_FLAGS,
    ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', sa]),
    '--log-level', 'warn',
    // JSON lines, so that forwardOutput() can pass on their level, message and fields.
    '--log-format', 'json',
  ];
  log.info({ cli, args }, 'starting the Temporal dev server');
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = forwardOutput(child, log);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const stop = stopper(child, exited, output);

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let ready = await waitForPort(host, port, deadline, exited);
  // The port opens before every service is up; a namespace lookup proves the frontend serves.
  if (ready === 'ready' && (await namespaceState(address, namespace, deadline)) !== 'ok') ready = 'timeout';
  if (ready !== 'ready') {
    await stop();
    const why = ready === 'exited' ? 'exited during start-up' : 'did not open its port in time';
    throw new Error(`The Temporal dev server ${why} (${address}). Last output:\n${output.last.join('\n')}`);
  }
  const uiUrl = httpUrl(host, uiPort);
  log.info({ address, uiUrl, namespace, dbFile }, 'Temporal dev server ready');
  return { address, uiUrl, started: true, stop };
}

/**
 * Splits `host:port` (IPv6 in brackets: `[::1]:7233`).
 * @throws Error when the port is missing or not a number.
 */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address.trim());
  const host = m?.[1] ?? m?.[2];
  if (!m || !host) throw new Error(`Invalid Temporal address "${address}": expected host:port`);
  return { host, port: Number(m[3]) };
}

/** `true` when a TCP connection to host:port succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(
  host: string,
  port: number,
  deadline: number,
  exited: Promise<unknown>,
): Promise<'ready' | 'exited' | 'timeout'> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  while (Date.now() < deadline) {
    if (hasExited) return 'exited';
    if (await canConnect(host, port, 500)) return hasExited ? 'exited' : 'ready';
    await sleep(200);
  }
  return 'timeout';
}

/**
 * Whether `namespace` answers on the server at `address` before `deadline` (epoch ms):
 * `ok`, `missing` (the server says NOT_FOUND) or `unavailable`.
 */
async function namespaceState(
  address: string,
  namespace: string,
  deadline: number,
): Promise<'ok' | 'missing' | 'unavailable'> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: Math.max(deadline - Date.now(), 1) });
    for (;;) {
      try {
        const c = connection;
        await c.withDeadline(Math.min(deadline, Date.now() + 5_000), () =>
          c.workflowService.describeNamespace({ namespace }),
        );
        return 'ok';
      } catch (err) {
        if ((err as { code?: unknown }).code === GRPC_NOT_FOUND) return 'missing';
        if (Date.now() >= deadline) return 'unavailable';
        await sleep(250);
      }
    }
  } catch {
    return 'unavailable';
  } finally {
    await connection?.close();
  }
}

const GRPC_NOT_FOUND = 5;

function stopper(child: ChildProcess, exited: Promise<unknown>, output: DevServerOutput): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      output.quiet = true;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      try {
        await exited;
      } finally {
        clearTimeout(killTimer);
      }
    })();
    return stopping;
  };
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../config/index.ts');
  const { createLogger } = await import('../config/logger.ts');
  const config = loadConfig();
  const log = createLogger(config, 'temporal');
  const server = await startTemporalDevServer(config, log);
  if (!server.started) return;
  process.stdout.write(`Temporal server: ${server.address}  Web UI: ${server.uiUrl}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

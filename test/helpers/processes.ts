/**
 * Parts of the service as real child processes, for the reliability suites that crash
 * them: spawn a part with its environment, wait for a log line or a TCP port (events,
 * not sleeps), kill it with a signal and await its exit. Also the Temporal CLI dev
 * server on a file-backed SQLite database, so it can be killed and restarted on the
 * same state and port.
 *
 * Every part started here is registered and SIGKILLed when the test process exits, so a
 * failing suite leaves no orphan behind; suites still stop their parts in `afterAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { AppConfig } from '../../config/index.ts';
import { canConnect, SEARCH_ATTRIBUTES } from '../../scripts/temporal-dev-server.ts';
import { findTemporalCli, REPO_ROOT } from '../../scripts/temporal-cli.ts';

/** How a part ended: its exit code, or the signal that ended it. */
export interface PartExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A line a part wrote, and its JSON (pino lines) when it parses as an object. */
export interface PartLine {
  text: string;
  json: Record<string, unknown> | undefined;
}

/** A running child process. */
export interface Part {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<PartExit>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** The last lines of stdout and stderr (at most 400), oldest first. */
  lines(): PartLine[];
  /**
   * Resolves with the first line (already written or still to come) that matches.
   *
   * @throws Error when the process exits or `timeoutMs` passes first; the message
   *   holds the part's last lines.
   */
  waitForLine(match: RegExp | ((line: PartLine) => boolean), timeoutMs?: number): Promise<PartLine>;
  /** Sends `signal` (default SIGKILL) unless already exited, and resolves with how it exited. */
  kill(signal?: NodeJS.Signals): Promise<PartExit>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 15 s); resolves with how it exited. */
  stop(graceMs?: number): Promise<PartExit>;
}

/** Options of {@link spawnPart}. */
export interface SpawnPartOptions {
  /** Name used in error messages and echoed output. */
  name: string;
  /** Executable; default the Node running the tests (Node 24, type stripping). */
  command?: string;
  args: string[];
  /** The whole environment of the child (not merged with the parent's); see {@link envFor}. */
  env: Record<string, string>;
  cwd?: string;
  /** Echo the child's output to stderr; default when `RELIABILITY_ECHO=1`. */
  echo?: boolean;
}

const MAX_LINES = 400;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: a test process that dies (or forgets afterAll) takes its parts with it.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Spawns a part; its stdout/stderr lines are kept for {@link Part.waitForLine} and errors. */
export function spawnPart(options: SpawnPartOptions): Part {
  installExitHook();
  const child = spawn(options.command ?? process.execPath, options.args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`Could not spawn ${options.name}`);
  running.add(child);
  const echo = options.echo ?? process.env.RELIABILITY_ECHO === '1';
  const kept: PartLine[] = [];
  const listeners = new Set<(line: PartLine) => void>();
  const onLine = (text: string) => {
    if (!text.trim()) return;
    const line: PartLine = { text, json: parseJsonObject(text) };
    kept.push(line);
    if (kept.length > MAX_LINES) kept.shift();
    if (echo) process.stderr.write(`[${options.name}] ${text}\n`);
    for (const listener of listeners) listener(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', onLine);
  }

  let exitedFlag = false;
  const exited = new Promise<PartExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      running.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      exitedFlag = true;
      running.delete(child);
      resolve({ code: null, signal: null });
    });
  });

  const describeTail = () =>
    kept
      .slice(-30)
      .map((l) => `  ${l.text}`)
      .join('\n');

  const part: Part = {
    name: options.name,
    pid: child.pid,
    child,
    exited,
    hasExited: () => exitedFlag,
    lines: () => [...kept],
    waitForLine(match, timeoutMs = 60_000) {
      const test = typeof match === 'function' ? match : (l: PartLine) => match.test(l.text);
      const seen = kept.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise<PartLine>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`${options.name}: no line matching ${String(match)} within ${timeoutMs} ms. Last output:\n${describeTail()}`)), timeoutMs);
        const listener = (line: PartLine) => {
          if (test(line)) finish(undefined, line);
        };
        const finish = (err?: Error, line?: PartLine) => {
          clearTimeout(timer);
          listeners.delete(listener);
          if (err) reject(err);
          else resolve(line!);
        };
        listeners.add(listener);
        void exited.then((how) => {
          finish(new Error(`${options.name} exited (${how.signal ?? how.code}) before a line matching ${String(match)}. Last output:\n${describeTail()}`));
        });
      });
    },
    async kill(signal = 'SIGKILL') {
      if (!exitedFlag) child.kill(signal);
      return exited;
    },
    async stop(graceMs = 15_000) {
      if (exitedFlag) return exited;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(force);
      }
    },
  };
  return part;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The environment a part needs to run with `config` (the variables config/index.ts
 * reads), plus `overrides`. PATH and HOME come from the test process; nothing else does,
 * so a developer's shell cannot leak settings into a part.
 */
export function envFor(config: AppConfig, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: config.env,
    LOG_LEVEL: 'info',
    DATABASE_URL: config.database.url,
    TEST_DATABASE_URL: config.database.testUrl,
    DATABASE_POOL_MAX: String(config.database.poolMax),
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TASK_QUEUE: config.temporal.taskQueue,
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    ORDER_OUTCOME_WAIT_MS: String(config.api.orderOutcomeWaitMs),
    DATA_PLATFORM_URL: config.dataPlatform.url,
    DATA_PLATFORM_TIMEOUT_MS: String(config.dataPlatform.timeoutMs),
    ...overrides,
  };
}

/**
 * Starts the worker process (`node worker/main.ts`) and resolves once it logged
 * "worker started" (workflows bundled, worker created; it polls right after).
 */
export async function startWorkerProcess(env: Record<string, string>, name = 'worker'): Promise<Part> {
  const part = spawnPart({ name, args: [path.join(REPO_ROOT, 'worker', 'main.ts')], env });
  try {
    await part.waitForLine((l) => l.json?.msg === 'worker started', 90_000);
  } catch (err) {
    await part.kill();
    throw err;
  }
  return part;
}

/** A running API process and its base URL. */
export interface ApiPart extends Part {
  url: string;
}

/**
 * Starts the API process (`node api/server.ts`; `API_PORT=0` picks a free port) and
 * resolves once it logged that it listens, with the URL it logged.
 */
export async function startApiProcess(env: Record<string, string>, name = 'api'): Promise<ApiPart> {
  const part = spawnPart({ name, args: [path.join(REPO_ROOT, 'api', 'server.ts')], env });
  try {
    const line = await part.waitForLine((l) => typeof l.json?.url === 'string' && /listening/.test(String(l.json.msg)), 60_000);
    return Object.assign(part, { url: String(line.json!.url) });
  } catch (err) {
    await part.kill();
    throw err;
  }
}

/** A free TCP port on `host` (bound and released at once; good enough for tests). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Resolves once `host:port` accepts TCP connections.
 * @throws Error after `timeoutMs`, or as soon as `part` (when given) exits.
 */
export async function waitForPort(host: string, port: number, timeoutMs = 60_000, part?: Part): Promise<void> {
  await pollUntil(`${host}:${port} to accept connections`, async () => {
    if (part?.hasExited()) throw new Error(`${part.name} exited while waiting for port ${port}`);
    return canConnect(host, port, 500);
  }, { timeoutMs, intervalMs: 100 });
}

/** Resolves once nothing accepts connections on `host:port` any more. */
export async function waitForPortClosed(host: string, port: number, timeoutMs = 30_000): Promise<void> {
  await pollUntil(`${host}:${port} to close`, async () => !(await canConnect(host, port, 500)), { timeoutMs, intervalMs: 100 });
}

/**
 * Polls `condition` every `intervalMs` (default 100) until it returns true.
 * @throws Error naming `what` after `timeoutMs` (default 60 s); rethrows what `condition` throws.
 */
export async function pollUntil(
  what: string,
  condition: () => Promise<boolean> | boolean,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Options of {@link TemporalServerProcess}. */
export interface TemporalServerOptions {
  /** SQLite file holding the server's state (kept across restarts). */
  dbFile: string;
  /** gRPC port; pick one with {@link freePort}. */
  port: number;
  /** Namespace created at launch (besides `default`). */
  namespace: string;
  host?: string;
}

/**
 * `temporal server start-dev` as a child process on a file-backed SQLite database (WAL),
 * headless, with the SagaStatus search attribute: it can be killed (SIGKILL or SIGTERM)
 * and started again on the same file and port, as a crashed or restarted server would be.
 */
export class TemporalServerProcess {
  readonly options: TemporalServerOptions;
  #part: Part | undefined;
  #starts = 0;

  constructor(options: TemporalServerOptions) {
    this.options = options;
  }

  /** `host:port` of the gRPC frontend. */
  get address(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.options.port}`;
  }

  /** The running server process, if any. */
  get part(): Part | undefined {
    return this.#part;
  }

  /**
   * Starts the server and resolves once its frontend accepts connections and answers
   * for the namespace.
   */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.#part && !this.#part.hasExited()) throw new Error('The Temporal server is already running');
    const cli = await findTemporalCli({ build: false });
    const host = this.options.host ?? '127.0.0.1';
    const args = [
      'server', 'start-dev',
      '--ip', host,
      '--port', String(this.options.port),
      '--headless',
      '--namespace', this.options.namespace,
      '--db-filename', this.options.dbFile,
      '--sqlite-pragma', 'journal_mode=wal',
      ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', sa]),
      '--log-level', 'warn',
    ];
    this.#starts += 1;
    const part = spawnPart({ name: `temporal#${this.#starts}`, command: cli, args, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
    this.#part = part;
    const deadline = Date.now() + timeoutMs;
    await waitForPort(host, this.options.port, timeoutMs, part);
    // The port opens before every service serves; a namespace lookup proves the frontend does.
    const connection = await Connection.connect({ address: this.address, connectTimeout: Math.max(deadline - Date.now(), 1) });
    try {
      await pollUntil(`namespace ${this.options.namespace} on ${this.address}`, async () => {
        if (part.hasExited()) throw new Error(`${part.name} exited during start-up:\n${part.lines().map((l) => l.text).join('\n')}`);
        try {
          await connection.withDeadline(Date.now() + 2_000, () =>
            connection.workflowService.describeNamespace({ namespace: this.options.namespace }),
          );
          return true;
        } catch {
          return false;
        }
      }, { timeoutMs: Math.max(deadline - Date.now(), 1), intervalMs: 200 });
    } finally {
      await connection.close();
    }
  }

  /** Kills the server with `signal` and resolves once it has exited and its port is closed. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<PartExit | undefined> {
    const part = this.#part;
    if (!part) return undefined;
    const how = signal === 'SIGKILL' ? await part.kill('SIGKILL') : await part.stop(30_000);
    await waitForPortClosed(this.options.host ?? '127.0.0.1', this.options.port);
    return how;
  }
}

/**
 * A TCP relay between a part and a server (e.g. the worker and the Temporal frontend)
 * that can be frozen: from {@link TcpRelay.freeze} on, bytes in both directions are
 * dropped, so a call the part makes (an activity's completion) never arrives, as when the
 * part dies between doing something and reporting it.
 */
export interface TcpRelay {
  /** `127.0.0.1:<port>` to give the part instead of the server's address. */
  readonly address: string;
  /** Drops every byte from now on (connections stay open). */
  freeze(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Starts a {@link TcpRelay} to `target` (`host:port`) on a free port of 127.0.0.1. */
export async function startTcpRelay(target: string): Promise<TcpRelay> {
  const [, host, port] = /^(.*):(\d+)$/.exec(target) ?? [];
  if (!host || !port) throw new Error(`Invalid address ${target}`);
  let frozen = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect({ host, port: Number(port) });
    track(client);
    track(upstream);
    client.on('data', (chunk) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    address: `127.0.0.1:${address.port}`,
    freeze() {
      frozen = true;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** SIGKILLs every part still running (for `afterAll`). */
export async function killAllParts(): Promise<void> {
  const exits = [...running].map((child) => {
    const done = once(child, 'exit');
    child.kill('SIGKILL');
    return done;
  });
  await Promise.all(exits);
}

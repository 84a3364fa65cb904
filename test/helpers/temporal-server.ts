/**
 * The Temporal CLI dev server as a child process on a file-backed SQLite database, so a
 * suite can kill it and start it again on the same state and port.
 */
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../scripts/temporal-dev-server.ts';
import { testTemporalCli } from './temporal.ts';
import { spawnPart, type Part, type PartExit } from './parts.ts';
import { pollUntil, waitForPort, waitForPortClosed } from './waiting.ts';

/** Options of {@link TemporalServerProcess}. */
export interface TemporalServerOptions {
  /** SQLite file holding the server's state (kept across restarts). */
  dbFile: string;
  /** gRPC port; pick one with `freePort` (waiting.ts). */
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
    const cli = await testTemporalCli();
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

/**
 * A part of the service as a real child process, for the reliability suites that crash
 * it: spawn it with its environment, wait for a log line (an event, not a sleep), kill it
 * with a signal and await its exit.
 *
 * Every part started here is registered and SIGKILLed when the test process exits, so a
 * failing suite leaves no orphan behind; suites still stop their parts in `afterAll`
 * ({@link killAllParts}).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../scripts/temporal-cli.ts';

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
  /** The whole environment of the child (not merged with the parent's); see `envFor` in processes.ts. */
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

/** A part's output so far (the last {@link MAX_LINES} lines) and who waits for the next line. */
interface LineLog {
  name: string;
  kept: PartLine[];
  listeners: Set<(line: PartLine) => void>;
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
  const log = collectLines(child, options.name, options.echo ?? process.env.RELIABILITY_ECHO === '1');
  const { exited, hasExited } = watchExit(child);

  const part: Part = {
    name: options.name,
    pid: child.pid,
    child,
    exited,
    hasExited,
    lines: () => [...log.kept],
    waitForLine: (match, timeoutMs = 60_000) => waitForLine(log, exited, match, timeoutMs),
    async kill(signal = 'SIGKILL') {
      if (!hasExited()) child.kill(signal);
      return exited;
    },
    async stop(graceMs = 15_000) {
      if (hasExited()) return exited;
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

/** Reads `child`'s stdout and stderr line by line into a {@link LineLog}, echoing them when `echo`. */
function collectLines(child: ChildProcess, name: string, echo: boolean): LineLog {
  const log: LineLog = { name, kept: [], listeners: new Set() };
  const onLine = (text: string) => {
    if (!text.trim()) return;
    const line: PartLine = { text, json: parseJsonObject(text) };
    log.kept.push(line);
    if (log.kept.length > MAX_LINES) log.kept.shift();
    if (echo) process.stderr.write(`[${name}] ${text}\n`);
    for (const listener of log.listeners) listener(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', onLine);
  }
  return log;
}

/** How and whether `child` ended; a spawn error counts as an exit without code or signal. */
function watchExit(child: ChildProcess): { exited: Promise<PartExit>; hasExited: () => boolean } {
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
  return { exited, hasExited: () => exitedFlag };
}

/** {@link Part.waitForLine} of the part whose lines are in `log` and whose exit is `exited`. */
function waitForLine(log: LineLog, exited: Promise<PartExit>, match: RegExp | ((line: PartLine) => boolean), timeoutMs: number): Promise<PartLine> {
  const test = typeof match === 'function' ? match : (l: PartLine) => match.test(l.text);
  const seen = log.kept.find(test);
  if (seen) return Promise.resolve(seen);
  return new Promise<PartLine>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${log.name}: no line matching ${String(match)} within ${timeoutMs} ms. Last output:\n${describeTail(log)}`)), timeoutMs);
    const listener = (line: PartLine) => {
      if (test(line)) finish(undefined, line);
    };
    const finish = (err?: Error, line?: PartLine) => {
      clearTimeout(timer);
      log.listeners.delete(listener);
      if (err) reject(err);
      else resolve(line!);
    };
    log.listeners.add(listener);
    void exited.then((how) => {
      finish(new Error(`${log.name} exited (${how.signal ?? how.code}) before a line matching ${String(match)}. Last output:\n${describeTail(log)}`));
    });
  });
}

function describeTail(log: LineLog): string {
  return log.kept
    .slice(-30)
    .map((l) => `  ${l.text}`)
    .join('\n');
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

/** SIGKILLs every part still running (for `afterAll`). */
export async function killAllParts(): Promise<void> {
  const exits = [...running].map((child) => {
    const done = once(child, 'exit');
    child.kill('SIGKILL');
    return done;
  });
  await Promise.all(exits);
}

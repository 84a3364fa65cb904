/**
 * Log-line forwarding of the Temporal dev server that scripts/temporal-dev-server.ts
 * starts: every line the server writes goes to our logger, a JSON log line of the server
 * (`--log-format json`) with its own level, message and fields, and the last lines are
 * kept for the error message of a failed start.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../config/logger.ts';

/** The forwarded output of one server: its last 20 lines, and whether to log them at debug only. */
export type DevServerOutput = { last: string[]; quiet: boolean };

/**
 * Forwards the child's output lines to `log` (to debug once `quiet` is set, since a
 * stopping dev server warns about its own services going away); keeps the last 20 lines.
 * A JSON log line of the server keeps its level, message and fields; any other line
 * (the banner, `Stopping server...`) becomes the message, at info for stdout and warn
 * for stderr.
 */
export function forwardOutput(child: ChildProcess, log: Logger): DevServerOutput {
  const output: DevServerOutput = { last: [], quiet: false };
  const last = output.last;
  const pipe = (stream: NodeJS.ReadableStream | null, level: 'info' | 'warn') => {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => {
      if (!line.trim()) return;
      last.push(line);
      if (last.length > 20) last.shift();
      const entry = parseServerLogLine(line) ?? { level, msg: line, fields: {} };
      log[output.quiet ? 'debug' : entry.level]({ source: 'temporal-dev-server', ...entry.fields }, entry.msg);
    });
  };
  pipe(child.stdout, 'info');
  pipe(child.stderr, 'warn');
  return output;
}

/** One forwarded line of the dev server: pino level, message, structured fields. */
export type ServerLogEntry = { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> };

/**
 * A line of the server's `--log-format json` output (`{"time","level","msg",...}`) as a
 * pino level, message and fields, or `undefined` for any other line. The server's own
 * `service` field (history, matching, ...) becomes `serverService`, since `service` names
 * the process in our logs; its `time` is dropped for the logger's own.
 */
export function parseServerLogLine(line: string): ServerLogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || typeof (parsed as { msg?: unknown }).msg !== 'string') return undefined;
  const { time: _time, level, msg, service, ...fields } = parsed as Record<string, unknown>;
  const lower = typeof level === 'string' ? level.toLowerCase() : 'info';
  return {
    level: lower === 'debug' || lower === 'info' || lower === 'warn' ? lower : 'error',
    msg: msg as string,
    fields: service === undefined ? fields : { serverService: service, ...fields },
  };
}

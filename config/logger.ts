/**
 * The one pino logger factory of the Node processes (API, worker, data platform,
 * scripts). `LOG_LEVEL` sets the level and `LOG_FORMAT` the output: JSON lines (the
 * default when stdout is not a terminal: CI, containers, tests, log collectors) or
 * pino-pretty's human-readable lines (the default in a terminal). Both are written
 * synchronously in this thread, so nothing is lost when a process exits right after
 * logging and no transport worker thread is needed.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { isColorSupported, prettyFactory } from 'pino-pretty';
import type { AppConfig } from './index.ts';

export type { DestinationStream, Logger };

/** Options of {@link createLogger}. */
export type CreateLoggerOptions = {
  /** Where the log lines go. Default: stdout, synchronously. */
  destination?: DestinationStream;
  /**
   * Colours in `pretty` output. Default: pino-pretty's detection (stdout is a colour
   * terminal, or `FORCE_COLOR` is set, and `NO_COLOR` is not).
   */
  colorize?: boolean;
};

/**
 * Creates the root logger of a process, tagged with its `service` name (a field of
 * every JSON line; left out of pretty lines, where the process is known).
 */
export function createLogger(
  config: Pick<AppConfig, 'logLevel' | 'logFormat'>,
  service: string,
  opts: CreateLoggerOptions = {},
): Logger {
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const options = { level: config.logLevel, base: { service } };
  if (config.logFormat === 'json') return pino(options, destination);
  return pino(options, prettyDestination(destination, opts.colorize ?? isColorSupported));
}

/** A destination that turns each JSON line pino writes into a pretty one and writes it to `out`. */
function prettyDestination(out: DestinationStream, colorize: boolean): DestinationStream {
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
  return { write: (line: string) => out.write(pretty(line)) };
}

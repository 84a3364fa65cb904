/**
 * The one pino logger factory of the Node processes (API, worker, data platform,
 * scripts). JSON lines on stdout; `LOG_LEVEL` sets the level.
 */
import { pino, type Logger } from 'pino';
import type { AppConfig } from './index.ts';

export type { Logger };

/** Creates the root logger of a process, tagged with its `service` name. */
export function createLogger(config: Pick<AppConfig, 'logLevel'>, service: string): Logger {
  return pino({ level: config.logLevel, base: { service } });
}

/**
 * Runs the mock data platform from the environment (`npm run data-platform`):
 * listens on `DATA_PLATFORM_HOST:DATA_PLATFORM_PORT` with the latency, failure rate and
 * outage flag of `DATA_PLATFORM_LATENCY_MS`, `DATA_PLATFORM_FAILURE_RATE` and
 * `DATA_PLATFORM_DOWN`, keeps what it receives in `DATA_PLATFORM_STORE_PATH` (default
 * `.data-platform/events.jsonl`; empty: in memory), and stops cleanly on SIGINT/SIGTERM.
 * Exits 1 when that file cannot be opened or read back.
 */
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../config/logger.ts';
import { createDataPlatformServer, type DataPlatformServer } from './server.ts';

const config = loadConfig();
const log = createLogger(config, 'data-platform');
const { host, port, latencyMs, failureRate, down, storePath } = config.dataPlatform;

let server: DataPlatformServer;
try {
  server = createDataPlatformServer({ latencyMs, failureRate, down, storePath, logger: log });
} catch (err) {
  log.error({ err, storePath }, 'cannot open the event store');
  process.exit(1);
}
const { url } = await server.listen(port, host);
log.info({ url, settings: server.settings, storePath: storePath ?? 'in memory' }, 'mock data platform listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'mock data platform stopping');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'mock data platform failed to stop cleanly');
        process.exit(1);
      },
    );
  });
}

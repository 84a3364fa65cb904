/**
 * The worker's Temporal Runtime: one logger (the process's pino logger, so JSON or pretty
 * lines as `LOG_FORMAT` says) and one Prometheus endpoint for the whole process. The Runtime serves `http://<address>/metrics` itself, with the SDK's
 * own metrics (prefixed `temporal_`: task latencies, slots, polls, completions) and the
 * custom metrics that workflows (`metricMeter` from @temporalio/workflow) and activities
 * (`Context.current().metricMeter`) record, unprefixed.
 */
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { DATA_PLATFORM_DELIVERY_LAG_METRIC } from '../activities/data-platform.ts';
import { metricsUrlOf } from '../config/metrics-address.ts';
import { temporalLoggerFrom } from './worker.ts';

/**
 * Bucket bounds of `data_platform_delivery_lag_ms`, in ms: from a prompt delivery
 * (tens of ms) to one that waited out an outage of the data platform (the activity
 * retries for up to 24 h). The Runtime's default buckets stop at 10 s.
 */
export const DELIVERY_LAG_BUCKETS_MS: readonly number[] = [
  10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000,
];

/**
 * Telemetry options of the worker's Runtime: core logs forwarded to the Runtime logger
 * (in the process's `LOG_FORMAT`, like everything else), and, when `metricsAddress` is set, the Prometheus
 * exporter on it. Counters get the `_total` suffix (Prometheus convention; the SDK's
 * default leaves it off). Durations of the SDK's histograms stay in milliseconds, its
 * default, and units are spelled in our own metric names.
 */
export function workerTelemetryOptions(metricsAddress: string | undefined): NonNullable<RuntimeOptions['telemetryOptions']> {
  return {
    logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
    ...(metricsAddress
      ? {
          metrics: {
            prometheus: {
              bindAddress: metricsAddress,
              countersTotalSuffix: true,
              histogramBucketOverrides: { [DATA_PLATFORM_DELIVERY_LAG_METRIC]: [...DELIVERY_LAG_BUCKETS_MS] },
            },
          },
        }
      : {}),
  };
}

/** What {@link installWorkerRuntime} installed. */
export interface InstalledWorkerRuntime {
  runtime: Runtime;
  /** `http://<address>/metrics` (a wildcard address as loopback), or undefined when metrics are off or the address could not be bound. */
  metricsUrl: string | undefined;
}

/**
 * Installs the process-wide Runtime with `log` as its logger and the Prometheus exporter
 * on `metricsAddress` (an `ip:port`, config/metrics-address.ts; undefined: no metrics). Call it once, before any
 * connection or worker is created.
 *
 * When the address cannot be bound (another worker replica on the same host already
 * serves it), the worker still starts, without metrics, and says so at error level:
 * processing sagas matters more than exporting numbers about them, and a scraper sees
 * the missing target anyway.
 */
export function installWorkerRuntime(log: Logger, metricsAddress: string | undefined): InstalledWorkerRuntime {
  const logger = temporalLoggerFrom(log);
  try {
    const runtime = Runtime.install({ logger, telemetryOptions: workerTelemetryOptions(metricsAddress) });
    return { runtime, metricsUrl: metricsAddress ? metricsUrlOf(metricsAddress) : undefined };
  } catch (err) {
    if (!metricsAddress) throw err;
    log.error({ err, metricsAddress }, 'worker metrics exporter could not start; running without metrics');
    const runtime = Runtime.install({ logger, telemetryOptions: workerTelemetryOptions(undefined) });
    return { runtime, metricsUrl: undefined };
  }
}

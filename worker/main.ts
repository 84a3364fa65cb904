/**
 * The worker process (`npm run worker`): registers both sagas and all activities on the
 * task queue and runs until SIGTERM/SIGINT, then stops polling, lets running activities
 * finish (up to WORKER_SHUTDOWN_GRACE_MS) and closes its connections. Run as many
 * replicas as needed; they share the task queue. Its Prometheus metrics (the SDK's and
 * the sagas') are served at `http://<WORKER_METRICS_ADDRESS>/metrics`, see worker/metrics.ts.
 * At start-up it creates or updates the reconciliation Schedule (worker/schedule.ts;
 * RECONCILIATION_INTERVAL_MS=0 deletes it). It also runs the waiting queue's admission
 * driver (worker/queue-admission.ts), the outbox relay (worker/outbox-relay.ts), which
 * delivers the sagas' data-platform events, and the ranking consumer
 * (worker/ranking-consumer.ts), which counts confirmed orders into the popular-products
 * read model, until it stops.
 *
 * Tracing (config/tracing.ts) starts first, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: the
 * rest of the process (worker/process.ts) is imported after it, so that pg, loaded by that
 * import, is instrumented.
 */
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../config/logger.ts';
import { startTracing } from '../config/tracing.ts';

const config = loadConfig();
const log = createLogger(config, 'worker');
const tracing = await startTracing(config.tracing, { service: 'sagas-worker', instrument: ['pg', 'undici'] });
if (tracing) log.info({ endpoint: config.tracing.endpoint, protocol: config.tracing.protocol }, 'tracing on');
const { runWorker } = await import('./process.ts');
await runWorker(config, log, tracing);

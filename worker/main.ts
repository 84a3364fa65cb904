/**
 * The worker process (`npm run worker`): registers both sagas and all activities on the
 * task queue and runs until SIGTERM/SIGINT, then stops polling, lets running activities
 * finish (up to WORKER_SHUTDOWN_GRACE_MS) and closes its connections. Run as many
 * replicas as needed; they share the task queue. Its Prometheus metrics (the SDK's and
 * the sagas') are served at `http://<WORKER_METRICS_ADDRESS>/metrics`, see worker/metrics.ts.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/index.ts';
import { temporalConnectionOptions } from '../config/temporal.ts';
import { createLogger } from '../config/logger.ts';
import { openOrm } from '../db/orm.ts';
import { installWorkerRuntime } from './metrics.ts';
import { createConfiguredSagaWorker } from './worker.ts';

const config = loadConfig();
const log = createLogger(config, 'worker');
const { metricsUrl } = installWorkerRuntime(log, config.worker.metricsAddress);

const orm = await openOrm(config.database);
const connection = await NativeConnection.connect(await temporalConnectionOptions(config.temporal));
const worker = await createConfiguredSagaWorker(config, connection, orm, log);

// Worker.run() already reacts to SIGTERM/SIGINT (Runtime shutdown signals) by shutting down gracefully.
log.info(
  { taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, address: config.temporal.address, metricsUrl: metricsUrl ?? null },
  'worker started',
);
try {
  await worker.run();
} finally {
  await connection.close();
  await orm.close();
  log.info('worker stopped');
}

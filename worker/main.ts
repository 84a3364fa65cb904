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
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createDataPlatformClient } from '../activities/data-platform.ts';
import { loadConfig } from '../config/index.ts';
import { temporalConnectionOptions } from '../config/temporal.ts';
import { createLogger } from '../config/logger.ts';
import { openOrm } from '../db/orm.ts';
import { installWorkerRuntime } from './metrics.ts';
import { startOutboxRelay } from './outbox-relay.ts';
import { startQueueAdmission } from './queue-admission.ts';
import { startRankingConsumer } from './ranking-consumer.ts';
import { ensureReconciliationSchedule } from './schedule.ts';
import { createConfiguredSagaWorker } from './worker.ts';

const config = loadConfig();
const log = createLogger(config, 'worker');
const { metricsUrl } = installWorkerRuntime(log, config.worker.metricsAddress);

const orm = await openOrm(config.database);
const connection = await NativeConnection.connect(await temporalConnectionOptions(config.temporal));
const worker = await createConfiguredSagaWorker(config, connection, orm, log);

// The reconciliation Schedule (worker/schedule.ts): a worker that cannot set it up still
// runs sagas, and says so; the next worker to start tries again.
try {
  const scheduleConnection = await Connection.connect(await temporalConnectionOptions(config.temporal));
  try {
    await ensureReconciliationSchedule(new Client({ connection: scheduleConnection, namespace: config.temporal.namespace }), config, log);
  } finally {
    await scheduleConnection.close();
  }
} catch (err) {
  log.error({ err }, 'reconciliation schedule could not be set up; running without it');
}

// Worker.run() already reacts to SIGTERM/SIGINT (Runtime shutdown signals) by shutting down gracefully.
log.info(
  { taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, address: config.temporal.address, metricsUrl: metricsUrl ?? null },
  'worker started',
);
const queueAdmission = startQueueAdmission(
  orm,
  log.child({ component: 'queue-admission' }),
  { settings: config.queue, pollMs: config.queue.pollMs, databaseUrl: config.database.url },
  Runtime.instance().metricMeter,
);
const outboxRelay = startOutboxRelay(
  orm,
  log.child({ component: 'outbox-relay' }),
  {
    databaseUrl: config.database.url,
    client: createDataPlatformClient({ baseUrl: config.dataPlatform.url, timeoutMs: config.dataPlatform.timeoutMs }),
    ...config.outbox,
  },
  Runtime.instance().metricMeter,
);
const rankingConsumer = startRankingConsumer(orm, log.child({ component: 'ranking-consumer' }), { databaseUrl: config.database.url }, Runtime.instance().metricMeter);
try {
  await worker.run();
} finally {
  await rankingConsumer.stop();
  await outboxRelay.stop();
  await queueAdmission.stop();
  await connection.close();
  await orm.close();
  log.info('worker stopped');
}

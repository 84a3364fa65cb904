/**
 * The worker process's run, from worker/main.ts once tracing is started (or known to be
 * off): the ORM, the Temporal connection and worker, the reconciliation Schedule, the
 * queue admission driver, the outbox relay and the ranking consumer, until the worker
 * stops (SIGTERM/SIGINT), then everything closed in order and the last spans exported.
 * Imported only after config/tracing.ts registered the instrumentations, so that pg is
 * patched when this module's imports load it.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createDataPlatformClient } from '../activities/data-platform.ts';
import type { AppConfig } from '../config/index.ts';
import { temporalConnectionOptions } from '../config/temporal.ts';
import type { Logger } from '../config/logger.ts';
import type { Tracing } from '../config/tracing.ts';
import { openOrm } from '../db/orm.ts';
import { installWorkerRuntime } from './metrics.ts';
import { startOutboxRelay } from './outbox-relay.ts';
import { startQueueAdmission } from './queue-admission.ts';
import { startRankingConsumer } from './ranking-consumer.ts';
import { ensureReconciliationSchedule } from './schedule.ts';
import { createConfiguredSagaWorker } from './worker.ts';

/** Runs the worker process until it stops; see worker/main.ts. */
export async function runWorker(config: AppConfig, log: Logger, tracing: Tracing | undefined): Promise<void> {
  const { metricsUrl } = installWorkerRuntime(log, config.worker.metricsAddress);

  const orm = await openOrm(config.database);
  const connection = await NativeConnection.connect(await temporalConnectionOptions(config.temporal));
  const worker = await createConfiguredSagaWorker(config, connection, orm, log, tracing);

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
    // The spans of the last activities and workflow tasks, still batched.
    await tracing?.shutdown();
    log.info('worker stopped');
  }
}

/** The data-platform notification both sagas run after their pivot step. */
import { CancellationScope, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { DataPlatformEvent } from '../activities/data-platform.ts';
import type { SagaProgress } from '../common/saga.ts';
import { NOTIFY_OPTIONS } from './activity-options.ts';
import { failureOf } from './failures.ts';

const notifier = proxyActivities<Activities>(NOTIFY_OPTIONS);

/**
 * Delivers `event` of saga `sagaId` to the data platform, retried for up to a day, and
 * records the delivery state in `progress.notification`. Never throws: a delivery that
 * fails for good is logged and leaves the business result as it is.
 */
export async function notifyDataPlatform(progress: Pick<SagaProgress, 'notification'>, sagaId: string, event: DataPlatformEvent): Promise<void> {
  progress.notification = 'PENDING';
  try {
    // After the pivot the business result stands: cancelling the workflow must not lose the event.
    await CancellationScope.nonCancellable(() => notifier.notifyDataPlatform({ sagaId, event }));
    progress.notification = 'DELIVERED';
  } catch (err) {
    progress.notification = 'FAILED';
    log.error('data platform notification failed for good', { sagaId, eventId: event.eventId, failureType: failureOf(err).type });
  }
}

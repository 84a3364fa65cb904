/**
 * What both sagas do with their data-platform event after their pivot step. Sagas started
 * from the patch {@link OUTBOX_AFTER_PIVOT_PATCH} on do nothing: their pivot wrote the
 * event into the outbox in its transaction (activities/pivots.ts) and the relay delivers
 * it (`notification` OUTBOX). Sagas started before it deliver the event themselves, with
 * the `notifyDataPlatform` activity, as they always did.
 */
import { CancellationScope, log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { DataPlatformEvent } from '../activities/data-platform.ts';
import { OUTBOX_AFTER_PIVOT_PATCH } from '../common/outbox.ts';
import type { SagaProgress } from '../common/saga.ts';
import { NOTIFY_OPTIONS } from './activity-options.ts';
import { failureOf } from './failures.ts';

const notifier = proxyActivities<Activities>(NOTIFY_OPTIONS);

/**
 * Whether this saga's event goes through the outbox (true for sagas started from
 * {@link OUTBOX_AFTER_PIVOT_PATCH} on). Call once, at the start of the saga, and keep the
 * answer. `hasPatch` answers patch questions (default `patched`; the sagas pass
 * `SagaRun.hasPatch`, true without a marker for sagas of a later shape).
 */
export function eventInOutbox(hasPatch: (patchId: string) => boolean = patched): boolean {
  // Asked once, at the saga's start: a saga started before the patch keeps notifying even
  // when it reaches its pivot on a worker that has it, since its pivot may have run without the outbox.
  return hasPatch(OUTBOX_AFTER_PIVOT_PATCH);
}

/**
 * After the pivot: with `outbox` (see {@link eventInOutbox}) records that the relay
 * delivers the event (`progress.notification` OUTBOX) and returns at once; without, runs
 * {@link notifyDataPlatform} with the event `event()` builds. Never throws.
 */
export async function afterPivot(
  progress: Pick<SagaProgress, 'notification'>,
  outbox: boolean,
  sagaId: string,
  event: () => DataPlatformEvent,
): Promise<void> {
  if (outbox) {
    progress.notification = 'OUTBOX';
    return;
  }
  await notifyDataPlatform(progress, sagaId, event());
}

/**
 * Delivers `event` of saga `sagaId` to the data platform, retried for up to a day, and
 * records the delivery state in `progress.notification`. Never throws: a delivery that
 * fails for good is logged and leaves the business result as it is. Only sagas started
 * before {@link OUTBOX_AFTER_PIVOT_PATCH} run it.
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

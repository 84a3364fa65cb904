/**
 * The outbox relay: runs in every worker process and delivers the data-platform events
 * that the sagas' pivots wrote into the outbox (`data_platform_deliveries`,
 * common/outbox.ts) in their confirming transaction.
 *
 * Each pass claims a batch of due PENDING events in one short statement (FOR UPDATE SKIP
 * LOCKED, and a lease of `leaseMs` in `claimed_until`), POSTs them a few at a time with
 * the event id as the idempotency key, and records each outcome (worker/outbox-rows.ts):
 * - accepted (2xx, a repeat included): DELIVERED;
 * - refused (any other 4xx, `DataPlatformRejected`): FAILED with the platform's answer in
 *   `last_error`, never tried again and blocking nothing else (a poison event);
 * - a transient failure (network, timeout, 5xx, 408, 429): tried again after a backoff,
 *   250 ms doubling per attempt up to 30 s.
 * A full batch is followed by the next one at once. Replicas never claim the same event
 * while a lease lasts; an event whose relay died mid-batch is claimed again once its lease
 * has run out. The receiver deduplicates by event id, so the rare second POST (a relay
 * that stalled past its lease, an old-shape saga's `notifyDataPlatform` activity) is
 * harmless: every event counts exactly once there.
 *
 * What wakes it (worker/listen-loop.ts): a pivot's NOTIFY on {@link OUTBOX_CHANNEL}, the
 * moment the next retry falls due, and a safety poll every `pollMs`.
 *
 * The repair of missing events: at most once per `repair.everyMs` (default a minute), a
 * pass first writes the outbox event of every CONFIRMED order and reservation confirmed
 * between `repair.lookbackMs` (default an hour) and `repair.graceMs` (default a minute)
 * ago that has none (worker/outbox-rows.ts `writeMissingEvents`: the pivot's event id,
 * type and payload; `on conflict do nothing`). During a rolling deploy a new saga's pivot
 * can run on a worker of code from before the outbox, which writes no event, and the saga,
 * being new, never calls `notifyDataPlatform`: without the repair its event would never
 * leave. The grace leaves an old-shape saga time to write its own row after its pivot.
 *
 * Metrics (the worker's meter): `data_platform_outbox_backlog` (gauge, PENDING events),
 * `data_platform_delivery_lag_ms` (histogram, from the row's creation to DELIVERED) and
 * `data_platform_delivery_attempts_total` by `outcome` (activities/data-platform.ts).
 */
import { ApplicationFailure, type MetricMeter } from '@temporalio/common';
import type { Logger } from 'pino';
import {
  DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC,
  DATA_PLATFORM_DELIVERY_LAG_METRIC,
  type DataPlatformClient,
  type DeliveryReceipt,
} from '../activities/data-platform.ts';
import { OUTBOX_CHANNEL } from '../common/outbox.ts';
import type { Orm } from '../db/orm.ts';
import { startListenLoop } from './listen-loop.ts';
import {
  claimBatch,
  markDelivered,
  markFailed,
  nextDueAt,
  pendingCount,
  releaseClaims,
  scheduleRetry,
  writeMissingEvents,
  type ClaimedEvent,
  type RetryBackoff,
} from './outbox-rows.ts';

/** Name of the backlog gauge: PENDING outbox events, refreshed at most once per second. */
export const OUTBOX_BACKLOG_METRIC = 'data_platform_outbox_backlog';

/** Backoff of a transient delivery failure: 250 ms, doubling per attempt, at most 30 s. */
export const OUTBOX_RETRY_BACKOFF: RetryBackoff = Object.freeze({ baseMs: 250, maxMs: 30_000 });

/** POSTs in flight at once within a batch. */
const CONCURRENT_POSTS = 8;

/** Least interval between two refreshes of the backlog gauge, in ms. */
const BACKLOG_REFRESH_MS = 1_000;

/** The repair of missing events (see the file's comment): its window, and how often it runs, in ms. */
export interface OutboxRepairOptions {
  /** Least interval between two repairs; default 60 s. */
  everyMs?: number;
  /** Sagas confirmed less than this long ago are left alone; default 60 s. */
  graceMs?: number;
  /** Sagas confirmed longer ago than this are not looked at; default 1 h; null: the whole history. */
  lookbackMs?: number | null;
  /** Most events one repair writes; default 500 (the next repair writes the rest). */
  limit?: number;
}

/** Defaults of {@link OutboxRepairOptions}. */
export const OUTBOX_REPAIR_DEFAULTS = Object.freeze({ everyMs: 60_000, graceMs: 60_000, lookbackMs: 3_600_000, limit: 500 });

/** Name of the counter of events the repair wrote (CONFIRMED sagas found without one). */
export const OUTBOX_REPAIRED_METRIC = 'data_platform_outbox_repaired';

/** Settings of {@link startOutboxRelay}. */
export interface OutboxRelayOptions {
  /** PostgreSQL URL to LISTEN on (the application database). */
  databaseUrl: string;
  /** The data platform's client (activities/data-platform.ts); its timeout bounds one POST. */
  client: DataPlatformClient;
  /** Events claimed per batch; default 50. */
  batchSize?: number;
  /** How long a claim lasts, in ms; default 30 s. Should exceed a few POST timeouts. */
  leaseMs?: number;
  /** The safety poll, in ms; default 5 s. */
  pollMs?: number;
  /** The repair of missing events; defaults {@link OUTBOX_REPAIR_DEFAULTS}. */
  repair?: OutboxRepairOptions;
}

/** A running relay. */
export interface OutboxRelay {
  /** Stops claiming, finishes the POSTs in flight, gives back unsent claims, ends the LISTEN connection. */
  stop(): Promise<void>;
  /** Waits for the pass in progress, runs one more (every due event) and resolves when it is done (tests). */
  drainNow(): Promise<void>;
}

/** Starts the relay; it runs until {@link OutboxRelay.stop}. */
export function startOutboxRelay(orm: Orm, log: Logger, options: OutboxRelayOptions, meter?: MetricMeter): OutboxRelay {
  const batchSize = options.batchSize ?? 50;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 5_000;
  const metrics = meter && {
    attempts: meter.createCounter(DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC, 'attempts', 'POSTs of events to the data platform, by outcome'),
    lag: meter.createHistogram(DATA_PLATFORM_DELIVERY_LAG_METRIC, 'int', 'ms', 'From an event occurring to its delivery to the data platform, in ms'),
    backlog: meter.createGauge(OUTBOX_BACKLOG_METRIC, 'int', 'events', 'PENDING events in the data-platform outbox'),
    repaired: meter.createCounter(OUTBOX_REPAIRED_METRIC, 'events', 'Outbox events written for CONFIRMED sagas found without one'),
  };
  const repair = { ...OUTBOX_REPAIR_DEFAULTS, ...options.repair };
  let running = true;
  let lastBacklogAt = 0;
  let lastRepairAt = 0;

  /** Writes the missing events when a repair is due; a failure is logged and tried again at the next. */
  const repairIfDue = async (): Promise<void> => {
    if (Date.now() - lastRepairAt < repair.everyMs) return;
    lastRepairAt = Date.now();
    try {
      const written = await writeMissingEvents(orm, repair);
      if (written.length > 0) {
        metrics?.repaired.add(written.length);
        log.warn({ count: written.length, eventIds: written.slice(0, 10) }, 'outbox: wrote the missing events of confirmed sagas');
      }
    } catch (err) {
      log.warn({ err }, 'outbox: the repair of missing events failed; trying again at the next');
    }
  };

  /** POSTs one claimed event and records its outcome. */
  const deliver = async (claim: ClaimedEvent): Promise<void> => {
    const fields = { eventId: claim.event.eventId, sagaId: claim.sagaId };
    let receipt: DeliveryReceipt;
    try {
      receipt = await options.client.send(claim.event);
    } catch (err) {
      const message = String((err as Error)?.message ?? err);
      if (err instanceof ApplicationFailure && err.nonRetryable) {
        metrics?.attempts.add(1, { outcome: 'rejected' });
        log.error({ ...fields, err }, 'data platform refused the event; parked as FAILED');
        await markFailed(orm, claim, message);
      } else {
        metrics?.attempts.add(1, { outcome: 'failed_transient' });
        log.warn({ ...fields, attempts: claim.attempts + 1, error: message }, 'data platform delivery failed; retrying later');
        await scheduleRetry(orm, claim, message, OUTBOX_RETRY_BACKOFF);
      }
      return;
    }
    metrics?.attempts.add(1, { outcome: receipt.duplicate ? 'duplicate' : 'delivered' });
    const lagMs = await markDelivered(orm, claim);
    if (lagMs !== null) metrics?.lag.record(Math.round(lagMs));
  };

  /**
   * Delivers a batch, {@link CONCURRENT_POSTS} at a time. Stops starting POSTs when the relay
   * stops or half the lease is gone (the rest could outlive it and be claimed twice), and
   * gives back what it did not send.
   */
  const deliverBatch = async (claims: ClaimedEvent[]): Promise<void> => {
    const startSendingBefore = Date.now() + leaseMs / 2;
    const queue = [...claims];
    const lane = async () => {
      for (let claim = queue.shift(); claim; claim = queue.shift()) {
        if (!running || Date.now() > startSendingBefore) {
          queue.unshift(claim);
          return;
        }
        try {
          await deliver(claim);
        } catch (err) {
          // Recording the outcome failed (a database error): the lease runs out and the event is sent again.
          log.warn({ err, eventId: claim.event.eventId }, 'outbox: could not record a delivery outcome');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_POSTS, claims.length) }, lane));
    await releaseClaims(orm, queue);
  };

  /** One pass: the repair when due, batches while they come back full, then the backlog gauge and the next due moment. */
  const pass = async (): Promise<Date | null> => {
    await repairIfDue();
    for (;;) {
      const claims = await claimBatch(orm, batchSize, leaseMs);
      if (claims.length > 0) await deliverBatch(claims);
      if (claims.length < batchSize || !running) break;
    }
    if (metrics && Date.now() - lastBacklogAt >= BACKLOG_REFRESH_MS) {
      lastBacklogAt = Date.now();
      metrics.backlog.set(await pendingCount(orm));
    }
    return nextDueAt(orm);
  };

  const loop = startListenLoop(log, { name: 'outbox relay', databaseUrl: options.databaseUrl, channel: OUTBOX_CHANNEL, pollMs, pass });
  log.info({ batchSize, leaseMs, pollMs }, 'outbox relay started');
  return {
    drainNow: () => loop.passNow(),
    async stop() {
      running = false;
      await loop.stop();
    },
  };
}

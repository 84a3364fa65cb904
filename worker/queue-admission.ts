/**
 * The waiting queue's admission driver: runs in every worker process and admits WAITING
 * queue tokens into free slots and ends ACTIVE ones whose `activeUntil` has passed
 * (db/queue.ts). It holds no state of its own: every pass reads the token table and
 * changes it in one transaction per performance under that performance's counter lock,
 * so any number of replicas may run it, a SIGKILL at any instant loses nothing (the
 * transaction commits or not), and no token is admitted twice.
 *
 * What wakes it:
 * - a freed slot: the reservation pivot (a paid token) NOTIFYs {@link QUEUE_SLOT_FREED_CHANNEL}
 *   on commit; the driver LISTENs on its own connection and passes at once (worker/listen-loop.ts);
 * - the next `activeUntil` of an ACTIVE token: it sleeps exactly until then;
 * - a safety poll every `pollMs` (QUEUE_POLL_MS, default 1 s), which also covers a lost
 *   LISTEN connection (it reconnects) and a notification sent while it was down.
 * Joins and cancellations admit in their own transaction (the API), so they need no wake-up.
 *
 * Metrics (the worker's Prometheus endpoint): `queue_tokens_admitted_total`,
 * `queue_tokens_timed_out_total`, and gauges `queue_tokens_waiting` / `queue_tokens_active`
 * (all performances, refreshed on each safety poll).
 */
import type { MetricMeter } from '@temporalio/common';
import type { Logger } from 'pino';
import { QUEUE_SLOT_FREED_CHANNEL, type QueueSettings } from '../common/queue.ts';
import type { Orm } from '../db/orm.ts';
import { admitPerformance, nextActiveDeadline, performancesNeedingAdmission, type AdmissionPass } from '../db/queue.ts';
import { startListenLoop } from './listen-loop.ts';

/** Settings of the driver: the admission rules, the safety poll (ms) and the database to LISTEN on. */
export interface QueueAdmissionOptions {
  settings: QueueSettings;
  pollMs: number;
  databaseUrl: string;
}

/** A running driver: `stop()` ends its loop and its LISTEN connection and resolves when both are done. */
export interface QueueAdmissionDriver {
  stop(): Promise<void>;
  /** Runs one pass now and resolves when it is done (tests). */
  passNow(): Promise<void>;
}

/** Starts the driver; it keeps running until {@link QueueAdmissionDriver.stop}. */
export function startQueueAdmission(orm: Orm, log: Logger, options: QueueAdmissionOptions, meter?: MetricMeter): QueueAdmissionDriver {
  const metrics = meter && {
    admitted: meter.createCounter('queue_tokens_admitted', 'tokens', 'Queue tokens admitted (WAITING -> ACTIVE) by the admission driver'),
    timedOut: meter.createCounter('queue_tokens_timed_out', 'tokens', 'ACTIVE queue tokens ended because their activeUntil passed'),
    waiting: meter.createGauge('queue_tokens_waiting', 'int', 'tokens', 'WAITING queue tokens, all performances'),
    active: meter.createGauge('queue_tokens_active', 'int', 'tokens', 'ACTIVE queue tokens, all performances'),
  };
  let lastGaugeAt = 0;

  /** One pass: every performance with work, one transaction each. */
  const pass = async (): Promise<Date | null> => {
    const em = orm.em.fork();
    for (const performanceId of await performancesNeedingAdmission(em, options.settings)) {
      // One performance's failure (its transaction rolled back) must not hold up the others.
      let result: AdmissionPass;
      try {
        result = await orm.em.fork().transactional((tx) => admitPerformance(tx, performanceId, options.settings));
      } catch (err) {
        log.warn({ err, performanceId }, 'queue admission of a performance failed; retrying on the next pass');
        continue;
      }
      if (result.admitted.length > 0 || result.expired > 0) {
        log.debug({ performanceId, admitted: result.admitted.length, timedOut: result.expired }, 'queue admission');
        metrics?.admitted.add(result.admitted.length);
        metrics?.timedOut.add(result.expired);
      }
    }
    if (metrics && Date.now() - lastGaugeAt >= options.pollMs) {
      lastGaugeAt = Date.now();
      const rows = await em.execute<{ status: string; n: number }[]>(
        `select status, count(*)::int as n from queue_tokens where status in ('WAITING', 'ACTIVE') group by status`,
      );
      metrics.waiting.set(rows.find((r) => r.status === 'WAITING')?.n ?? 0);
      metrics.active.set(rows.find((r) => r.status === 'ACTIVE')?.n ?? 0);
    }
    return nextActiveDeadline(em);
  };

  const loop = startListenLoop(log, {
    name: 'queue admission',
    databaseUrl: options.databaseUrl,
    channel: QUEUE_SLOT_FREED_CHANNEL,
    pollMs: options.pollMs,
    pass,
  });
  log.info({ ...options.settings, pollMs: options.pollMs }, 'queue admission driver started');
  return { passNow: () => loop.passNow(), stop: () => loop.stop() };
}

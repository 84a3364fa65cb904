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
 *   on commit; the driver LISTENs on its own connection and passes at once;
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
import pg from 'pg';
import type { Logger } from 'pino';
import { QUEUE_SLOT_FREED_CHANNEL, type QueueSettings } from '../common/queue.ts';
import type { Orm } from '../db/orm.ts';
import { admitPerformance, nextActiveDeadline, performancesNeedingAdmission } from '../db/queue.ts';

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

/** How long to wait before reconnecting a lost LISTEN connection, in ms. */
const RECONNECT_DELAY_MS = 1_000;

/** Starts the driver; it keeps running until {@link QueueAdmissionDriver.stop}. */
export function startQueueAdmission(orm: Orm, log: Logger, options: QueueAdmissionOptions, meter?: MetricMeter): QueueAdmissionDriver {
  const metrics = meter && {
    admitted: meter.createCounter('queue_tokens_admitted', 'tokens', 'Queue tokens admitted (WAITING -> ACTIVE) by the admission driver'),
    timedOut: meter.createCounter('queue_tokens_timed_out', 'tokens', 'ACTIVE queue tokens ended because their activeUntil passed'),
    waiting: meter.createGauge('queue_tokens_waiting', 'int', 'tokens', 'WAITING queue tokens, all performances'),
    active: meter.createGauge('queue_tokens_active', 'int', 'tokens', 'ACTIVE queue tokens, all performances'),
  };
  let running = true;
  let dirty = true;
  let wake: (() => void) | undefined;
  let listener: pg.Client | undefined;
  let lastGaugeAt = 0;

  const poke = () => {
    dirty = true;
    wake?.();
  };

  /** One pass: every performance with work, one transaction each. */
  const pass = async (): Promise<Date | null> => {
    const em = orm.em.fork();
    for (const performanceId of await performancesNeedingAdmission(em, options.settings)) {
      const result = await orm.em.fork().transactional((tx) => admitPerformance(tx, performanceId, options.settings));
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

  const listen = async (): Promise<void> => {
    while (running && !listener) {
      const client = new pg.Client({ connectionString: options.databaseUrl });
      try {
        client.on('notification', poke);
        client.on('error', (err) => {
          log.warn({ err }, 'queue admission: LISTEN connection lost; reconnecting');
          if (listener === client) listener = undefined;
          void client.end().catch(() => undefined);
          setTimeout(() => void listen(), RECONNECT_DELAY_MS).unref();
        });
        await client.connect();
        await client.query(`LISTEN ${QUEUE_SLOT_FREED_CHANNEL}`);
        listener = client;
        poke(); // whatever was announced while not listening
      } catch (err) {
        log.warn({ err }, 'queue admission: cannot LISTEN; polling only until it can');
        await client.end().catch(() => undefined);
        await sleep(RECONNECT_DELAY_MS);
      }
    }
  };

  let current: Promise<void> = Promise.resolve();
  const loop = async (): Promise<void> => {
    while (running) {
      let deadline: Date | null = null;
      if (dirty) {
        dirty = false;
        try {
          const pending = pass();
          current = pending.then(() => undefined, () => undefined);
          deadline = await pending;
        } catch (err) {
          log.warn({ err }, 'queue admission pass failed; retrying on the next poll');
        }
      }
      const untilDeadline = deadline ? Math.max(0, deadline.getTime() - Date.now()) + 5 : options.pollMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(options.pollMs, untilDeadline));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if (dirty || !running) wake();
      });
      wake = undefined;
      dirty = true;
    }
  };

  void listen();
  const looping = loop();
  log.info({ ...options.settings, pollMs: options.pollMs }, 'queue admission driver started');
  return {
    async passNow() {
      await current;
      await pass();
    },
    async stop() {
      running = false;
      wake?.();
      await looping;
      await listener?.end().catch(() => undefined);
      listener = undefined;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

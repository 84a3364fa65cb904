/**
 * The ranking consumer: runs in every worker process and keeps the Ranking read model
 * (`product_sales_daily`, db/entities/ranking.ts) from the outbox's `order.confirmed`
 * events, independently of the relay that delivers them (db/ranking.ts has the SQL and
 * why each event counts exactly once). It holds no state of its own: any number of
 * replicas may run it, and a SIGKILL at any instant loses nothing (a batch commits or not).
 *
 * It wakes on the pivots' NOTIFY on the outbox channel (common/outbox.ts `OUTBOX_CHANNEL`,
 * a LISTEN connection of its own) and on a slow safety poll (worker/listen-loop.ts), and
 * each pass consumes batches until nothing is left, reading the outbox from the
 * consumer's position on (`ranking_consumer_position`, shared by the replicas), so a
 * pass costs the rows written since, not the outbox's history. Metric (the worker's
 * Prometheus endpoint): `ranking_events_consumed_total`.
 */
import type { MetricMeter } from '@temporalio/common';
import type { Logger } from 'pino';
import { OUTBOX_CHANNEL } from '../common/outbox.ts';
import type { Orm } from '../db/orm.ts';
import { DEFAULT_RANKING_BATCH_SIZE, drainRanking } from '../db/ranking.ts';
import { startListenLoop } from './listen-loop.ts';

/** Default safety poll of the consumer, in ms: the NOTIFY wakes it; the poll only bounds a lost one. */
export const DEFAULT_RANKING_POLL_MS = 5_000;

/** Settings of {@link startRankingConsumer}: the database to LISTEN on, the safety poll (ms), rows per batch. */
export interface RankingConsumerOptions {
  databaseUrl: string;
  pollMs?: number;
  batchSize?: number;
}

/** A running consumer: `stop()` ends its loop and LISTEN connection; `passNow()` drains once more (tests). */
export interface RankingConsumer {
  stop(): Promise<void>;
  passNow(): Promise<void>;
}

/** Starts the consumer; it keeps running until {@link RankingConsumer.stop}. */
export function startRankingConsumer(orm: Orm, log: Logger, options: RankingConsumerOptions, meter?: MetricMeter): RankingConsumer {
  const consumed = meter?.createCounter('ranking_events_consumed', 'events', 'order.confirmed outbox events counted into the popular-products ranking');
  const batchSize = options.batchSize ?? DEFAULT_RANKING_BATCH_SIZE;
  const pollMs = options.pollMs ?? DEFAULT_RANKING_POLL_MS;
  const loop = startListenLoop(log, {
    name: 'ranking consumer',
    databaseUrl: options.databaseUrl,
    channel: OUTBOX_CHANNEL,
    pollMs,
    pass: async () => {
      const result = await drainRanking(orm, batchSize);
      if (result.consumed > 0) {
        log.debug({ consumed: result.consumed, salesRows: result.salesRows }, 'ranking events consumed');
        consumed?.add(result.consumed);
      }
      return null;
    },
  });
  log.info({ pollMs, batchSize }, 'ranking consumer started');
  return loop;
}

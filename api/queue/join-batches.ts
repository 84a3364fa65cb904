/**
 * Joins of one performance in batches (group commit). PostgreSQL serializes the joins of
 * a performance on its counter row whatever the API does (db/queue.ts), and each commit
 * holds that lock until its WAL record is flushed; one join per commit would make the
 * disk's flush time the queue's speed limit, and its hiccups every join's latency. Here
 * the joins that arrive while a batch of their performance is in flight wait for it and
 * then go together, in arrival order, as one statement and one commit
 * (db/queue-tokens.ts `joinQueueBatch`), at most {@link MAX_JOIN_BATCH} at a time. With
 * no batch in flight, a join goes at once: alone, it waits for nothing.
 *
 * Tickets follow arrival within this process; across API replicas, arrival at the
 * counter row decides, as it would without batches.
 */
import type { QueueSettings } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { joinQueueBatch, type JoinRequest, type JoinResult } from '../../db/queue-tokens.ts';

/** Most joins in one batch (one statement). */
export const MAX_JOIN_BATCH = 200;

/** A join waiting for its batch, with how to answer it. */
interface PendingJoin {
  request: JoinRequest;
  resolve(result: JoinResult): void;
  reject(err: unknown): void;
}

/** Runs the joins of each performance in batches; one per app (api/queue/routes.ts). Joins of different performances do not wait for each other. */
export class JoinBatches {
  readonly #orm: Orm;
  readonly #settings: QueueSettings;
  /** The joins waiting for the batch in flight, by performance; a key exists while a batch runs. */
  readonly #waiting = new Map<number, PendingJoin[]>();

  constructor(orm: Orm, settings: QueueSettings) {
    this.#orm = orm;
    this.#settings = settings;
  }

  /**
   * Joins `request.userId` to the queue of `performanceId` in the next batch of that performance.
   *
   * @returns what the join did: a new token, or the user's live one (`created` false).
   * @throws the foreign-key violation (SQLSTATE 23503) of an unknown performance or user,
   *   nothing written; a database error of its batch, nothing written (joining again is safe).
   */
  join(performanceId: number, request: JoinRequest): Promise<JoinResult> {
    return new Promise<JoinResult>((resolve, reject) => {
      const pending = { request, resolve, reject };
      const waiting = this.#waiting.get(performanceId);
      if (waiting) {
        waiting.push(pending);
        return;
      }
      this.#waiting.set(performanceId, []);
      void this.#run(performanceId, [pending]);
    });
  }

  /** Runs `batch`, then the joins that arrived meanwhile, until none is left. */
  async #run(performanceId: number, first: PendingJoin[]): Promise<void> {
    let batch = first;
    while (batch.length > 0) {
      try {
        const results = await joinQueueBatch(this.#orm, performanceId, batch.map((p) => p.request), this.#settings);
        batch.forEach((pending, i) => {
          const result = results[i]!;
          if (result instanceof Error) pending.reject(result);
          else pending.resolve(result);
        });
      } catch (err) {
        for (const pending of batch) pending.reject(err);
      }
      const waiting = this.#waiting.get(performanceId)!;
      batch = waiting.splice(0, MAX_JOIN_BATCH);
    }
    this.#waiting.delete(performanceId);
  }
}

/**
 * The waiting queue's contract (issue 15), shared by the API, the activities, the worker's
 * admission driver and the invariant checker. A user joins the queue of one performance
 * and gets a queue token; tokens are admitted (WAITING -> ACTIVE) strictly in arrival
 * order (their `ticket`), at most `activeLimit` ACTIVE at any instant per performance.
 * Holding seats and paying need the caller's ACTIVE token for the performance. A token
 * ends EXPIRED (its reservation was paid: `PAID`; or its `activeUntil` passed:
 * `TIMED_OUT`) or CANCELLED by its owner. The idea and the user-facing behaviour come from
 * the concert write-ups' Redis waiting queue (`redisQueueService.findExpiredAtAndUpdate`);
 * here the state is PostgreSQL rows (db/queue.ts) and docs/architecture.md explains why.
 */

/** Life of a queue token: WAITING -> ACTIVE -> EXPIRED, or CANCELLED by its owner from WAITING or ACTIVE. */
export const QUEUE_TOKEN_STATUSES = ['WAITING', 'ACTIVE', 'EXPIRED', 'CANCELLED'] as const;

/** One of {@link QUEUE_TOKEN_STATUSES}. */
export type QueueTokenStatus = (typeof QUEUE_TOKEN_STATUSES)[number];

/** Why a token ended: its reservation was paid, its active period ran out, its owner cancelled it. */
export const QUEUE_TOKEN_END_REASONS = ['PAID', 'TIMED_OUT', 'CANCELLED'] as const;

/** One of {@link QUEUE_TOKEN_END_REASONS}. */
export type QueueTokenEndReason = (typeof QUEUE_TOKEN_END_REASONS)[number];

/** The admission rules: at most `activeLimit` ACTIVE tokens per performance, each active for `activeMs` (ms). */
export interface QueueSettings {
  readonly activeLimit: number;
  readonly activeMs: number;
}

/**
 * The PostgreSQL NOTIFY channel on which a freed slot is announced (payload: the
 * performance id), in the transaction that freed it; the admission driver LISTENs on it.
 */
export const QUEUE_SLOT_FREED_CHANNEL = 'queue_slot_freed';

/** The HTTP header carrying the caller's queue token id (a UUID) on `POST /reservations` and `POST /reservations/:id/payment`. */
export const QUEUE_TOKEN_HEADER = 'Queue-Token';

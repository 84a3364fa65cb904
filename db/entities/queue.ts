/**
 * The waiting queue (part of the Reservations context; common/queue.ts, db/queue.ts):
 * one counter row per performance and one row per queue token.
 */
import { defineEntity, p } from '@mikro-orm/core';
import { QUEUE_TOKEN_END_REASONS, QUEUE_TOKEN_STATUSES } from '../../common/queue.ts';
import { AppUser } from './catalog.ts';
import { Performance } from './concerts.ts';

/**
 * The queue of one performance: `lastTicket` is the last arrival number handed out and
 * `waiting` the number of WAITING tokens. Its row lock serializes joins and admissions of
 * the performance (db/queue.ts), so tickets follow arrival and the cap holds.
 */
export const QueueCounter = defineEntity({
  name: 'QueueCounter',
  tableName: 'queue_counters',
  checks: [{ name: 'queue_counters_waiting_non_negative', expression: 'waiting >= 0' }],
  properties: {
    performance: () => p.oneToOne(Performance).primary().owner(),
    lastTicket: p.bigint('number').default(0),
    waiting: p.integer().default(0),
  },
});

/**
 * A queue token of user `user` for `performance`. `ticket` is its arrival number (unique
 * per performance, increasing with arrival); it is admitted (`admittedAt`, ACTIVE until
 * `activeUntil`) in ticket order and ends at `endedAt` for `endReason`. At most one live
 * (WAITING or ACTIVE) token per user and performance (a partial unique index).
 */
export const QueueToken = defineEntity({
  name: 'QueueToken',
  tableName: 'queue_tokens',
  uniques: [{ name: 'queue_tokens_performance_ticket_unique', properties: ['performance', 'ticket'] }],
  properties: {
    id: p.uuid().primary(),
    performance: () => p.manyToOne(Performance),
    user: () => p.manyToOne(AppUser),
    ticket: p.bigint('number'),
    status: p.enum([...QUEUE_TOKEN_STATUSES]),
    joinedAt: p.datetime(),
    admittedAt: p.datetime().nullable(),
    activeUntil: p.datetime().nullable(),
    endedAt: p.datetime().nullable(),
    endReason: p.enum([...QUEUE_TOKEN_END_REASONS]).nullable(),
  },
});

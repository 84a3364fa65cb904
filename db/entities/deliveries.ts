/**
 * The transactional outbox of data-platform events (common/outbox.ts): one row per event,
 * written PENDING by a saga's pivot in its transaction and delivered by the relay, so
 * delivery is observable in SQL.
 */
import { defineEntity, p } from '@mikro-orm/core';
import { OUTBOX_STATUSES } from '../../common/outbox.ts';

/** Delivery states of an outbox row (PENDING, DELIVERED, FAILED). */
export const DELIVERY_STATUSES = OUTBOX_STATUSES;

/**
 * One data-platform event in the outbox. `eventId` is the idempotency key the receiver
 * deduplicates by; `payload` is the event's payload, and the body the platform receives
 * `{ eventId, type, occurredAt, payload }` is rebuilt from `eventId`, `eventType`,
 * `occurredAt` and `payload`. `attempts` counts POSTs made; `lastError` keeps the latest
 * failure for operators (a FAILED row: the platform's 4xx). The relay tries a PENDING row
 * once `nextAttemptAt` has passed (backoff after a transient failure) and holds it while
 * `claimedUntil` lies ahead (its lease). `recordedXid` is the id of the transaction that
 * inserted the row (a column default, never written by the application): the ranking
 * consumer reads from its position by it (db/ranking.ts).
 */
export const DataPlatformDelivery = defineEntity({
  name: 'DataPlatformDelivery',
  tableName: 'data_platform_deliveries',
  properties: {
    eventId: p.string().length(250).primary(),
    sagaId: p.string().length(200).index(),
    eventType: p.string().length(100),
    status: p.enum(DELIVERY_STATUSES),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    payload: p.json<Record<string, unknown>>(),
    occurredAt: p.datetime().onCreate(() => new Date()),
    nextAttemptAt: p.datetime().onCreate(() => new Date()),
    claimedUntil: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    deliveredAt: p.datetime().nullable(),
    recordedXid: p.string().columnType('xid8').defaultRaw('pg_current_xact_id()').lazy(),
  },
});

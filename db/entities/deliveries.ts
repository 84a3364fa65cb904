/** Data-platform deliveries: one row per event, so delivery is observable in SQL. */
import { defineEntity, p } from '@mikro-orm/core';

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;

/**
 * Outbox-style record of one data-platform event. `eventId` is the idempotency key the
 * receiver deduplicates by; `attempts` counts POSTs made; `lastError` keeps the latest
 * failure for operators.
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
    createdAt: p.datetime().onCreate(() => new Date()),
    deliveredAt: p.datetime().nullable(),
  },
});

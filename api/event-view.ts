/**
 * A saga's data-platform event as the order and reservation views show it (member
 * `event`): its schema, for both views and the OpenAPI document, and its read from the
 * outbox (`data_platform_deliveries`, common/outbox.ts). Also the saga progress's
 * `notification` schema with the outbox's OUTBOX state.
 */
import { z } from 'zod';
import { confirmedEventId } from '../common/ids.ts';
import { OUTBOX_STATUSES, type OutboxStatus } from '../common/outbox.ts';
import type { Orm } from '../db/orm.ts';
import { Instant } from './schemas.ts';

/** The `event` member of an order or reservation: its data-platform event in the outbox, or null before its pivot. */
export const EventViewSchema = z
  .object({
    eventId: z.string().meta({ description: 'The event id, `<workflowId>:confirmed`: the idempotency key the data platform deduplicates by.' }),
    status: z
      .enum(OUTBOX_STATUSES)
      .meta({ description: 'PENDING: in the outbox, the relay delivers it (retrying while the platform is down); DELIVERED: the platform has it; FAILED: the platform refused it (`lastError`), an operator has to act.' }),
    attempts: z.number().int().nonnegative().meta({ description: 'POSTs made to the data platform so far.' }),
    deliveredAt: Instant.nullable().meta({ description: 'When the platform accepted it; null until DELIVERED.' }),
    lastError: z.string().nullable().meta({ description: 'The latest failed attempt\'s error; null when none failed since the last success.' }),
  })
  .meta({ id: 'DataPlatformEvent', description: 'The event the saga\'s pivot wrote into the outbox for the data platform, and its delivery state.' });

/** The `event` member of an order or reservation view (see {@link EventViewSchema}). */
export type EventView = z.output<typeof EventViewSchema>;

/** `to_char` format of a UTC timestamp as `Date#toISOString` writes it (milliseconds, `Z`). */
const ISO_8601_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The data-platform event of saga `sagaId` (an order's or reservation's workflow id) as
 * shown in its view: the outbox row of event {@link confirmedEventId}`(sagaId)`, or null
 * when there is none (the saga has not passed its pivot, or never will).
 */
export async function findEventView(orm: Orm, sagaId: string): Promise<EventView | null> {
  const [row] = await orm.em.fork().execute<(Omit<EventView, 'status'> & { status: OutboxStatus })[]>(
    `select event_id as "eventId", status, attempts, last_error as "lastError",
            to_char(delivered_at at time zone 'UTC', ${ISO_8601_UTC}) as "deliveredAt"
     from data_platform_deliveries where event_id = ?`,
    [confirmedEventId(sagaId)] as never[],
    'all',
  );
  return row ?? null;
}

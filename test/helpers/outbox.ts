/**
 * Waiting for the transactional outbox: the sagas end at their pivot and the relay
 * (worker/outbox-relay.ts, in the stack's worker or a worker process) delivers their
 * events a moment later, so a suite that checks deliveries first waits for the outbox to
 * have no PENDING row of its sagas.
 */
import type { Orm } from '../../db/orm.ts';
import { pollUntil } from './waiting.ts';

/**
 * Resolves once no outbox row of the sagas `sagaIds` (workflow ids) is PENDING: each is
 * DELIVERED, FAILED, or absent (a saga that never passed its pivot).
 *
 * @throws Error after `timeoutMs` (default 60 s) while some are still PENDING.
 */
export async function awaitOutboxDelivered(orm: Orm, sagaIds: readonly string[], timeoutMs = 60_000): Promise<void> {
  if (sagaIds.length === 0) return;
  await pollUntil(
    'the outbox relay to deliver the sagas\' events',
    async () => {
      const [row] = await orm.em.fork().execute<{ pending: number }[]>(
        `select count(*)::int as pending from data_platform_deliveries where saga_id in (?) and status = 'PENDING'`,
        [[...sagaIds]],
      );
      return row!.pending === 0;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** {@link awaitOutboxDelivered} for the reservation sagas of performance `performanceId`. */
export async function awaitReservationEventsDelivered(orm: Orm, performanceId: number, timeoutMs?: number): Promise<void> {
  const rows = await orm.em.fork().execute<{ workflow_id: string }[]>('select workflow_id from reservations where performance_id = ?', [performanceId]);
  await awaitOutboxDelivered(orm, rows.map((r) => r.workflow_id), timeoutMs);
}

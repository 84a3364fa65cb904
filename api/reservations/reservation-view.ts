/**
 * The reservation read model: what `GET /reservations/:id` and the answers of the
 * reservation routes show. Business data comes from the `reservations` table; live saga
 * progress from the workflow's `reservationProgress` Query.
 */
import type { Client } from '@temporalio/client';
import { reservationProgressQuery, reservationWorkflowId, type ReservationProgress } from '../../common/index.ts';
import { Reservation } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../config/logger.ts';
import { describeWorkflow, queryOrNull } from '../temporal.ts';
import type { ReservationView } from './schemas.ts';

/** The reservation row without saga progress (its fields never null); `requestHash` for the key-reuse check. */
export type ReservationRecord = Omit<ReservationView, 'saga'> & {
  userId: number;
  performanceId: number;
  totalWon: number;
  holdExpiresAt: string;
  createdAt: string;
  requestHash: string;
};

/** Loads a reservation row, or null when there is none. */
export async function loadReservationRecord(orm: Orm, reservationId: string): Promise<ReservationRecord | null> {
  const reservation = await orm.em.fork().findOne(Reservation, { id: reservationId });
  if (!reservation) return null;
  return {
    reservationId: reservation.id,
    userId: reservation.user.id,
    performanceId: reservation.performance.id,
    status: reservation.status,
    seatIds: [...reservation.seatIds],
    totalWon: reservation.totalWon,
    holdExpiresAt: reservation.holdExpiresAt.toISOString(),
    reason: reservation.reason ?? null,
    message: reservation.message ?? null,
    createdAt: reservation.createdAt.toISOString(),
    confirmedAt: reservation.confirmedAt ? reservation.confirmedAt.toISOString() : null,
    requestHash: reservation.requestHash,
  };
}

/**
 * The saga progress of reservation `reservationId` through its Query, within a short deadline.
 * @returns null when the workflow does not exist, is unreachable or does not answer.
 */
export function queryReservationProgress(
  client: Client,
  log: Logger,
  reservationId: string,
): Promise<ReservationProgress | null> {
  return queryOrNull(client, reservationWorkflowId(reservationId), reservationProgressQuery, (err) =>
    log.debug({ err, reservationId }, 'reservation progress query failed'),
  );
}

/** Turns a record into the public view, attaching `saga`. */
export function toReservationView(record: ReservationRecord, saga: ReservationProgress | null): ReservationView {
  const { requestHash: _hash, ...view } = record;
  return { ...view, saga };
}

/** The view of a reservation whose saga exists but has not written its row yet. */
export function pendingReservationView(reservationId: string, saga: ReservationProgress | null): ReservationView {
  return {
    reservationId,
    userId: null,
    performanceId: null,
    status: 'PENDING',
    seatIds: [],
    totalWon: null,
    holdExpiresAt: saga?.holdExpiresAt ?? null,
    reason: null,
    message: null,
    createdAt: null,
    confirmedAt: null,
    saga,
  };
}

/**
 * The full view of reservation `reservationId`: its row with saga progress; or, without
 * a row but with a saga, a PENDING view; or null when neither exists.
 * @throws Temporal unavailability when there is no row and the saga cannot be looked up.
 */
export async function findReservationView(
  deps: { orm: Orm; client: Client },
  log: Logger,
  reservationId: string,
): Promise<ReservationView | null> {
  const record = await loadReservationRecord(deps.orm, reservationId);
  if (record) return toReservationView(record, await queryReservationProgress(deps.client, log, reservationId));
  if (!(await describeWorkflow(deps.client, reservationWorkflowId(reservationId)))) return null;
  return pendingReservationView(reservationId, await queryReservationProgress(deps.client, log, reservationId));
}

/**
 * Seat reservation routes. Every reservation is a `seatReservation` saga with workflow id
 * `reservation-<reservationId>`; the routes start it, pay it, cancel it and read it.
 *
 * `POST /reservations` body `{ userId, performanceId, seatIds: [1..10 distinct ids],
 * holdSeconds? (1..1800, default RESERVATION_HOLD_SECONDS) }`, optional `Idempotency-Key`
 * header. Starts (or rejoins) the saga and waits up to `ORDER_OUTCOME_WAIT_MS` for the hold:
 * - 201 {@link HoldView} (PENDING: the seats are held until `holdExpiresAt`; pay before it),
 *   `Location: /reservations/<id>`;
 * - 202 `{ reservationId, status: 'PENDING', links: { self } }` when the hold is not known yet;
 * - 409 `SeatUnavailable` (`details.seatIds`: the seats someone else holds or bought), 422
 *   `UnknownSeat` / `UnknownUser` from the saga; for a replayed key of a finished saga, its
 *   end: 410 `HoldExpired`, 409 `ReservationCancelled` / `CompensationFailed`;
 * - 400 `ValidationFailed` (body, duplicate seat id, Idempotency-Key), 400/413/415 body
 *   errors, 422 `UnknownUser`, 422 `UnknownPerformance` (`details.performanceId`), 422
 *   `UnknownSeat` (`details.seatIds`: not seats of this performance), 422
 *   `IdempotencyKeyReused`, 503 `TemporalUnavailable`. Nothing starts on a 4xx before the saga.
 *
 * `POST /reservations/:id/payment` (no body, or `{}`): pays with points and confirms.
 * 200 {@link ReservationView} (CONFIRMED); 202 pending body when the payment has not
 * finished within the wait; 402 `InsufficientPoints` (the hold is kept: top up and pay
 * again; `details`: `reservationId, userId, balancePoints, requiredPoints`); 410
 * `HoldExpired`; 409 `ReservationCancelled` / `AlreadyConfirmed` / `CompensationFailed`;
 * 404 `NotFound`; 400 for a bad id or a non-empty body; 503 `TemporalUnavailable`.
 *
 * `DELETE /reservations/:id`: asks the saga to cancel. 202 `{ reservationId, status:
 * 'CANCELLING' }` with `Location` (the seats are released shortly; read the reservation);
 * 200 {@link ReservationView} when it is already CANCELLED or EXPIRED (idempotent); 409
 * `AlreadyConfirmed` / `CompensationFailed`; 404 `NotFound`; 503 `TemporalUnavailable`.
 *
 * `GET /reservations/:id` (UUID): 200 {@link ReservationView} with live saga progress;
 * 400 for a bad id; 404 `NotFound` when neither a reservation row nor its saga exists.
 */
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import {
  FailureType,
  MAX_HOLD_SECONDS,
  MIN_HOLD_SECONDS,
  reservationWorkflowId,
  type HoldOutcome,
  type ReservationStatus,
  type SeatReservationInput,
} from '../../common/index.ts';
import { Performance, PointAccount, Seat } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../config/logger.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { ApiError, ErrorCode, notFound } from '../errors.ts';
import { idempotencyKeyReused, readIdempotencyKey } from '../idempotency.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { distinctBy, entityId } from '../validation.ts';
import { payReservation, requestCancellation, type PaymentAnswer } from '../reservations/commands.ts';
import { RESERVATION_FAILURE_STATUS, ReservationErrorCode, reservationFailure } from '../reservations/errors.ts';
import { startHold } from '../reservations/hold.ts';
import { checkPendingStart } from '../saga-start.ts';
import { reservationIdFor, reservationPath, reservationRequestHash } from '../reservations/request.ts';
import {
  findReservationView,
  loadReservationRecord,
  pendingReservationView,
  queryReservationProgress,
  toReservationView,
  type ReservationRecord,
  type ReservationView,
} from '../reservations/reservation-view.ts';

/** Most seats one reservation may hold. */
export const MAX_SEATS_PER_RESERVATION = 10;

/** Body of `POST /reservations`: 1..10 distinct seats of one performance, an optional hold in seconds. */
export const CreateReservationBody = z.strictObject({
  userId: entityId,
  performanceId: entityId,
  seatIds: z
    .array(entityId)
    .min(1)
    .max(MAX_SEATS_PER_RESERVATION)
    .superRefine(distinctBy('seatIds', (seatId) => seatId)),
  holdSeconds: z.number().int().min(MIN_HOLD_SECONDS).max(MAX_HOLD_SECONDS).optional(),
});

/** Body of `POST /reservations/:id/payment`: none, or an empty JSON object. */
export const PayReservationBody = z.strictObject({}).optional();

/** Path parameters `{ id }` of a reservation route: a UUID, lower-cased (workflow ids are case-sensitive). */
export const ReservationIdParams = z.object({ id: z.uuid('must be a UUID').transform((id) => id.toLowerCase()) });

/** Answer of `POST /reservations` once the seats are held (201): pay before `holdExpiresAt`. */
export interface HoldView {
  reservationId: string;
  status: ReservationStatus;
  /** The held seats, ascending. */
  seatIds: number[];
  /** Price of the seats, in won. */
  totalWon: number;
  /** ISO-8601 instant the hold lapses (and the seats are released) unless paid. */
  holdExpiresAt: string;
  links: { self: string; payment: string };
}

/** Answer while a hold or payment is not known yet (202). */
export interface PendingReservationBody {
  reservationId: string;
  status: 'PENDING';
  links: { self: string };
}

/** Answer of `DELETE /reservations/:id` when the cancellation was handed to the saga (202). */
export interface CancellingReservationBody {
  reservationId: string;
  status: 'CANCELLING';
}

type HoldAnswerBody = { status: 201; body: HoldView } | { status: 202; body: PendingReservationBody };

/** What a hold answer is built from: the saga's outcome or the reservation row. */
interface HoldState {
  reservationId: string;
  status: ReservationStatus;
  seatIds: number[];
  totalWon: number;
  holdExpiresAt: string;
  reason?: string | null;
  message?: string | null;
  unavailableSeatIds?: number[];
}

function pendingBody(reservationId: string): PendingReservationBody {
  return { reservationId, status: 'PENDING', links: { self: reservationPath(reservationId) } };
}

/**
 * Refuses a request whose user, performance or seats do not exist (422), before anything
 * starts. Seats of another performance count as unknown.
 */
async function checkReferences(orm: Orm, userId: number, performanceId: number, seatIds: number[]): Promise<void> {
  const em = orm.em.fork();
  if ((await em.count(PointAccount, { user: userId })) === 0) {
    throw new ApiError(422, ErrorCode.UnknownUser, `User ${userId} has no point account`, { details: { userId } });
  }
  if ((await em.count(Performance, { id: performanceId })) === 0) {
    throw new ApiError(422, ReservationErrorCode.UnknownPerformance, `No performance ${performanceId}`, {
      details: { performanceId },
    });
  }
  const found = await em.find(Seat, { id: { $in: seatIds }, performance: performanceId }, { fields: ['id'] });
  const known = new Set(found.map((s) => s.id));
  const missing = seatIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new ApiError(422, ReservationErrorCode.UnknownSeat, `Not seats of performance ${performanceId}: ${missing.join(', ')}`, {
      details: { seatIds: missing },
    });
  }
}

/** Maps a hold state to the answer: 201 while held (or already paid), else the reason as an error. */
function holdAnswer(state: HoldState): HoldAnswerBody {
  const { reservationId } = state;
  switch (state.status) {
    case 'PENDING':
    case 'CONFIRMED':
      return {
        status: 201,
        body: {
          reservationId,
          status: state.status,
          seatIds: state.seatIds,
          totalWon: state.totalWon,
          holdExpiresAt: state.holdExpiresAt,
          links: { self: reservationPath(reservationId), payment: `${reservationPath(reservationId)}/payment` },
        },
      };
    case 'EXPIRED':
      throw reservationFailure(FailureType.HoldExpired, reservationId, { message: state.message });
    case 'COMPENSATION_FAILED':
      throw reservationFailure(FailureType.CompensationFailed, reservationId, { message: state.message });
    case 'CANCELLED': {
      const reason = state.reason ?? FailureType.ReservationCancelled;
      const seatReason = reason === FailureType.SeatUnavailable || reason === FailureType.UnknownSeat;
      const details = seatReason && state.unavailableSeatIds ? { seatIds: state.unavailableSeatIds } : undefined;
      throw reservationFailure(reason, reservationId, { message: state.message, details });
    }
  }
}

function stateOfOutcome(outcome: HoldOutcome): HoldState {
  return { ...outcome };
}

function stateOfRecord(record: ReservationRecord): HoldState {
  return {
    reservationId: record.reservationId,
    status: record.status,
    seatIds: record.seatIds,
    totalWon: record.totalWon,
    holdExpiresAt: record.holdExpiresAt,
    reason: record.reason,
    message: record.message,
  };
}

/** Decides the answer of `POST /reservations` from what starting the saga gave. */
async function reserveAnswer(deps: AppDeps, log: Logger, input: SeatReservationInput): Promise<HoldAnswerBody> {
  const { orm, client, config } = deps;
  const answer = await startHold(client, config.temporal.taskQueue, config.api.orderOutcomeWaitMs, input);
  log.info({ answer: answer.kind }, 'reservation started');
  if (answer.kind === 'outcome') {
    if (answer.outcome.requestHash !== input.requestHash) throw idempotencyKeyReused({ reservationId: input.reservationId });
    if (answer.outcome.status !== 'PENDING') return holdAnswer(stateOfOutcome(answer.outcome));
    // The hold outcome stays PENDING for the saga's life; a replayed request after the
    // reservation was paid, cancelled or expired gets the row's later word.
    const record = await loadReservationRecord(orm, input.reservationId);
    return holdAnswer(record && record.status !== 'PENDING' ? stateOfRecord(record) : stateOfOutcome(answer.outcome));
  }
  if (answer.kind === 'closed') {
    const record = await loadReservationRecord(orm, input.reservationId);
    if (!record) throw new ApiError(409, ErrorCode.AlreadyStarted, 'This reservation was already processed and has no record');
    if (record.requestHash !== input.requestHash) throw idempotencyKeyReused({ reservationId: input.reservationId });
    return holdAnswer(stateOfRecord(record));
  }
  return pendingHoldAnswer(client, input);
}

async function pendingHoldAnswer(client: Client, input: SeatReservationInput): Promise<HoldAnswerBody> {
  await checkPendingStart(client, reservationWorkflowId(input.reservationId), input.requestHash, 'reservation', () =>
    idempotencyKeyReused({ reservationId: input.reservationId }),
  );
  return { status: 202, body: pendingBody(input.reservationId) };
}

/**
 * The error for paying a reservation whose saga no longer runs, from its row: EXPIRED ->
 * 410, CANCELLED / CONFIRMED / COMPENSATION_FAILED -> 409; no row -> 404.
 *
 * @throws `cause` when the row is still PENDING (a closed saga left it so: an internal error).
 */
function notPayable(record: ReservationRecord | null, reservationId: string, cause: unknown): ApiError {
  if (!record) return notFound(`reservation ${reservationId}`);
  switch (record.status) {
    case 'EXPIRED':
      return reservationFailure(FailureType.HoldExpired, reservationId);
    case 'CANCELLED':
      return reservationFailure(FailureType.ReservationCancelled, reservationId);
    case 'CONFIRMED':
      return reservationFailure(FailureType.AlreadyConfirmed, reservationId);
    case 'COMPENSATION_FAILED':
      return reservationFailure(FailureType.CompensationFailed, reservationId, { message: record.message });
    case 'PENDING':
      throw cause instanceof Error ? cause : new Error(`Reservation ${reservationId} is PENDING without a running saga`);
  }
}

/** Decides the answer of `POST /reservations/:id/payment` from what the payment Update gave. */
async function paymentAnswer(
  deps: AppDeps,
  log: Logger,
  reservationId: string,
  answer: PaymentAnswer,
): Promise<{ status: 200; body: ReservationView } | { status: 202; body: PendingReservationBody }> {
  switch (answer.kind) {
    case 'paid': {
      const record = await loadReservationRecord(deps.orm, reservationId);
      const saga = await queryReservationProgress(deps.client, log, reservationId);
      const base = record ? toReservationView(record, saga) : pendingReservationView(reservationId, saga);
      return { status: 200, body: { ...base, status: answer.outcome.status, totalWon: answer.outcome.totalWon } };
    }
    case 'pending':
      return { status: 202, body: pendingBody(reservationId) };
    case 'refused': {
      if (answer.type in RESERVATION_FAILURE_STATUS) {
        const first = answer.details[0];
        const details =
          answer.type === FailureType.InsufficientPoints && first !== null && typeof first === 'object'
            ? (first as Record<string, unknown>)
            : undefined;
        throw reservationFailure(answer.type, reservationId, { message: answer.message, details });
      }
      log.warn({ failureType: answer.type }, 'payment failed with an unexpected failure type');
      throw notPayable(await loadReservationRecord(deps.orm, reservationId), reservationId, new Error(answer.message));
    }
    case 'failed':
      throw notPayable(await loadReservationRecord(deps.orm, reservationId), reservationId, answer.error);
    case 'closed':
      throw notPayable(await loadReservationRecord(deps.orm, reservationId), reservationId, undefined);
  }
}

/**
 * Refuses to cancel a reservation that is no longer PENDING unless it already ended
 * CANCELLED or EXPIRED (then cancelling again is a no-op): 409 when CONFIRMED or
 * COMPENSATION_FAILED.
 */
function refuseUnlessEnded(record: ReservationRecord): void {
  switch (record.status) {
    case 'CANCELLED':
    case 'EXPIRED':
      return;
    case 'CONFIRMED':
      throw reservationFailure(FailureType.AlreadyConfirmed, record.reservationId);
    case 'COMPENSATION_FAILED':
      throw reservationFailure(FailureType.CompensationFailed, record.reservationId, { message: record.message });
    case 'PENDING':
      throw new Error(`Reservation ${record.reservationId} is PENDING without a running saga`);
  }
}

/** Registers `POST /reservations`, `POST /reservations/:id/payment`, `DELETE /reservations/:id` and `GET /reservations/:id`. */
export function registerReservationRoutes(router: AppRouter, deps: AppDeps): void {
  router.post<object, object, HoldView | PendingReservationBody>(
    '/reservations',
    jsonBody(deps.config.api.bodyLimitBytes),
    async (ctx) => {
      const idempotencyKey = readIdempotencyKey(ctx.headers);
      const body = CreateReservationBody.parse(ctx.request.body);
      const seatIds = [...body.seatIds].sort((a, b) => a - b);
      await checkReferences(deps.orm, body.userId, body.performanceId, seatIds);
      const reservationId = reservationIdFor(body.userId, idempotencyKey);
      const holdMs = (body.holdSeconds ?? deps.config.api.reservationHoldSeconds) * 1000;
      const input: SeatReservationInput = {
        reservationId,
        userId: body.userId,
        performanceId: body.performanceId,
        seatIds,
        holdMs,
        requestHash: reservationRequestHash({ userId: body.userId, performanceId: body.performanceId, seatIds, holdMs }),
      };
      const log = ctx.state.log.child({ reservationId, workflowId: reservationWorkflowId(reservationId), idempotencyKey });
      const answer = await reserveAnswer(deps, log, input);
      ctx.set('Location', reservationPath(reservationId));
      ctx.status = answer.status;
      ctx.body = answer.body;
    },
  );

  router.post<object, object, ReservationView | PendingReservationBody>(
    '/reservations/:id/payment',
    jsonBody(deps.config.api.bodyLimitBytes),
    async (ctx) => {
      const { id } = ReservationIdParams.parse(ctx.params);
      PayReservationBody.parse(ctx.request.body);
      const log = ctx.state.log.child({ reservationId: id, workflowId: reservationWorkflowId(id) });
      const payment = await payReservation(deps.client, deps.config.api.orderOutcomeWaitMs, id);
      log.info({ answer: payment.kind, failureType: payment.kind === 'refused' ? payment.type : undefined }, 'payment requested');
      const answer = await paymentAnswer(deps, log, id, payment);
      ctx.set('Location', reservationPath(id));
      ctx.status = answer.status;
      ctx.body = answer.body;
    },
  );

  router.delete<object, object, ReservationView | CancellingReservationBody>('/reservations/:id', async (ctx) => {
    const { id } = ReservationIdParams.parse(ctx.params);
    const log = ctx.state.log.child({ reservationId: id, workflowId: reservationWorkflowId(id) });
    // A finished reservation is answered from its row without signalling: a CONFIRMED one
    // may still have a running saga (notifying the data platform) that would ignore it.
    let record = await loadReservationRecord(deps.orm, id);
    if (!record || record.status === 'PENDING') {
      if (await requestCancellation(deps.client, id)) {
        log.info('cancellation requested');
        ctx.set('Location', reservationPath(id));
        ctx.status = 202;
        ctx.body = { reservationId: id, status: 'CANCELLING' };
        return;
      }
      // The saga finished between the read and the signal, or never existed.
      record = await loadReservationRecord(deps.orm, id);
      if (!record) throw notFound(`reservation ${id}`);
    }
    refuseUnlessEnded(record);
    ctx.body = toReservationView(record, await queryReservationProgress(deps.client, log, id));
  });

  router.get<object, object, ReservationView>('/reservations/:id', async (ctx) => {
    const { id } = ReservationIdParams.parse(ctx.params);
    const view = await findReservationView(deps, ctx.state.log, id);
    if (!view) throw notFound(`reservation ${id}`);
    ctx.body = view;
  });
}

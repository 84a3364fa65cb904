/**
 * Seat reservation routes. Every reservation is a `seatReservation` saga with workflow id
 * `reservation-<reservationId>`; the routes start it, pay it, cancel it and read it.
 *
 * Holding seats and paying need the caller's ACTIVE queue token for the performance in
 * header `Queue-Token` (reservations/queue-token.ts): 403 `QueueTokenRequired` /
 * `QueueTokenNotActive` / `QueueTokenExpired`, 409 `QueueTokenInUse` (holds), 400 for a
 * header that is not a UUID; checked before anything starts.
 *
 * `POST /reservations` body `{ userId, performanceId, seatIds: [1..10 distinct ids],
 * holdSeconds? (1..1800, default RESERVATION_HOLD_SECONDS) }`, header `Queue-Token`,
 * optional `Idempotency-Key` header (a repeated request whose reservation exists is not
 * checked against the queue). Starts (or rejoins) the saga and waits up to
 * `ORDER_OUTCOME_WAIT_MS` for the hold:
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
 * `POST /reservations/:id/payment` (no body, or `{}`), header `Queue-Token` (the token the
 * seats were held with; not checked once the reservation has ended): pays with points and confirms.
 * 200 {@link ReservationView} (CONFIRMED); 202 pending body when the payment has not
 * finished within the wait; 402 `InsufficientPoints` (the hold is kept: top up and pay
 * again; `details`: `reservationId, userId, balancePoints, requiredPoints`); 410
 * `HoldExpired`; 409 `ReservationCancelled` / `AlreadyConfirmed` / `CompensationFailed` /
 * `SagaAlreadyCompensated`; 404 `NotFound`; 400 for a bad id or a non-empty body; 503
 * `SagaUnavailable` with `Retry-After` (the payment failed for a reason of ours and the
 * hold is kept: pay again; or the row is PENDING without a saga); 503 `TemporalUnavailable`.
 *
 * `DELETE /reservations/:id`: cancels through the saga's `reservationCancel` Update and
 * waits up to `ORDER_OUTCOME_WAIT_MS` for the saga to release the seats: 200
 * {@link ReservationView} once CANCELLED (or when it had already ended CANCELLED or
 * EXPIRED: idempotent); 202 `{ reservationId, status: 'CANCELLING' }` with `Location`
 * when it has not closed within the wait; 409 `PaymentInProgress` while a payment runs
 * (nothing changes), 409 `AlreadyConfirmed` / `CompensationFailed`; 404 `NotFound`; 503
 * `SagaUnavailable` (row PENDING without a saga) or `TemporalUnavailable`.
 * Failure types map to answers in reservations/failures.ts.
 *
 * `GET /reservations/:id` (UUID): 200 {@link ReservationView} with live saga progress;
 * 400 for a bad id; 404 `NotFound` when neither a reservation row nor its saga exists.
 */
import { reservationWorkflowId } from '../../common/index.ts';
import { actingUserId, assertActsOn, assertMayRead, callerOf } from '../auth/guard.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { readIdempotencyKey } from '../idempotency.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { cancelAnswer, paymentAnswer, reservationInput, reserveAnswer } from './commands.ts';
import { registerReservationOperatorRoutes } from './operator.ts';
import { checkPaymentQueueToken, readQueueTokenHeader } from './queue-token.ts';
import {
  CreateReservationBody,
  PayReservationBody,
  ReservationIdParams,
  type CancellingReservationBody,
  type HoldView,
  type PendingReservationBody,
  type ReservationView,
} from './schemas.ts';
import { findReservationView, reservationOwner, reservationPath } from './views.ts';

/** Registers `POST /reservations`, `POST /reservations/:id/payment`, `DELETE /reservations/:id` and `GET /reservations/:id`. */
export function registerReservationRoutes(router: AppRouter, deps: AppDeps): void {
  const { api } = deps.config;

  router.post<object, object, HoldView | PendingReservationBody>('/reservations', jsonBody(api.bodyLimitBytes), async (ctx) => {
    const idempotencyKey = readIdempotencyKey(ctx.headers);
    const queueTokenId = readQueueTokenHeader(ctx.headers);
    const parsed = CreateReservationBody.parse(ctx.request.body);
    const body = { ...parsed, userId: actingUserId(callerOf(ctx), parsed.userId) };
    const input = await reservationInput(deps, body, { idempotencyKey, queueTokenId });
    const { reservationId } = input;
    const log = ctx.state.log.child({ reservationId, workflowId: reservationWorkflowId(reservationId), idempotencyKey });
    const answer = await reserveAnswer(deps, log, input);
    ctx.set('Location', reservationPath(reservationId));
    ctx.status = answer.status;
    ctx.body = answer.body;
  });

  router.post<object, object, ReservationView | PendingReservationBody>(
    '/reservations/:id/payment',
    jsonBody(api.bodyLimitBytes),
    async (ctx) => {
      const { id } = ReservationIdParams.parse(ctx.params);
      const queueTokenId = readQueueTokenHeader(ctx.headers);
      PayReservationBody.parse(ctx.request.body);
      const owner = await reservationOwner(deps, id);
      assertActsOn(callerOf(ctx), owner, `reservation ${id}`);
      // assertActsOn refused a reservation without an owner: the owner is the caller.
      await checkPaymentQueueToken(deps.orm, { reservationId: id, userId: owner!, tokenId: queueTokenId });
      const log = ctx.state.log.child({ reservationId: id, workflowId: reservationWorkflowId(id) });
      const answer = await paymentAnswer(deps, log, id);
      ctx.set('Location', reservationPath(id));
      ctx.status = answer.status;
      ctx.body = answer.body;
    },
  );

  router.delete<object, object, ReservationView | CancellingReservationBody>('/reservations/:id', async (ctx) => {
    const { id } = ReservationIdParams.parse(ctx.params);
    assertActsOn(callerOf(ctx), await reservationOwner(deps, id), `reservation ${id}`);
    const log = ctx.state.log.child({ reservationId: id, workflowId: reservationWorkflowId(id) });
    const answer = await cancelAnswer(deps, log, id);
    if (answer.status === 202) ctx.set('Location', reservationPath(id));
    ctx.status = answer.status;
    ctx.body = answer.body;
  });

  router.get<object, object, ReservationView>('/reservations/:id', async (ctx) => {
    const { id } = ReservationIdParams.parse(ctx.params);
    const view = await findReservationView(deps, ctx.state.log, id);
    if (!view) throw notFound(`reservation ${id}`);
    assertMayRead(callerOf(ctx), view.userId, `reservation ${id}`);
    ctx.body = view;
  });

  registerReservationOperatorRoutes(router, deps);
}

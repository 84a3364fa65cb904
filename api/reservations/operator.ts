/**
 * The operator route of reservations.
 *
 * `POST /reservations/:id/compensations/retry` (operator): re-runs the failed
 * compensations of a reservation parked in COMPENSATION_FAILED (after the operator fixed
 * their cause), through the saga's `retryCompensations` Update, and answers with the
 * reservation view: 200 CANCELLED or EXPIRED (the end it was heading for) when they all
 * succeeded now; 409 `CompensationFailed` (`details.reservation`) when one failed again,
 * still parked; 202 when the retry is still running after `ORDER_OUTCOME_WAIT_MS`; 409
 * `CompensationRetryInProgress` while an earlier retry has not answered; 409
 * `NotCompensationFailed` for a reservation in any other state (or whose saga has ended);
 * 404 `NotFound` for an unknown reservation; 400 `ValidationFailed` for a bad id; 503
 * `TemporalUnavailable`. The same semantics and code as the orders' route
 * (api/compensation-retry.ts). It changes money and seats: deploy it behind operator
 * authentication.
 */
import { reservationWorkflowId, retryReservationCompensationsUpdate } from '../../common/index.ts';
import type { Logger } from '../../config/logger.ts';
import { compensationRetryAnswer, type RetryAnswer } from '../compensation-retry.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { ReservationIdParams, type ReservationView } from './schemas.ts';
import { findReservationView } from './views.ts';

/**
 * Re-runs the compensations of reservation `reservationId`, parked in
 * COMPENSATION_FAILED; see the route above.
 *
 * @throws ApiError 404, 409 `NotCompensationFailed` / `CompensationRetryInProgress` /
 *   `CompensationFailed` ({@link compensationRetryAnswer}).
 */
export function retryReservationAnswer(deps: AppDeps, log: Logger, reservationId: string): Promise<RetryAnswer<ReservationView>> {
  return compensationRetryAnswer(deps, log, {
    subject: 'reservation',
    id: reservationId,
    workflowId: reservationWorkflowId(reservationId),
    update: retryReservationCompensationsUpdate,
    read: () => findReservationView(deps, log, reservationId),
  });
}

/** Registers the operator route `POST /reservations/:id/compensations/retry`. */
export function registerReservationOperatorRoutes(router: AppRouter, deps: AppDeps): void {
  router.post<object, object, ReservationView>('/reservations/:id/compensations/retry', async (ctx) => {
    const { id } = ReservationIdParams.parse(ctx.params);
    const log = ctx.state.log.child({ workflowId: reservationWorkflowId(id) });
    const answer = await retryReservationAnswer(deps, log, id);
    ctx.status = answer.status;
    ctx.body = answer.body;
  });
}

/**
 * Waiting-queue routes (issue 15): a user joins the queue of a performance and gets a
 * queue token; holding seats and paying need the caller's ACTIVE token (header
 * `Queue-Token`, reservations/routes.ts). Tokens are admitted in arrival order, at most
 * `QUEUE_ACTIVE_LIMIT` ACTIVE per performance, each for `QUEUE_ACTIVE_SECONDS`.
 *
 * - `POST /queue/tokens` body `{ performanceId }` (user token): joins (commands.ts
 *   `joinQueueAnswer`, in the performance's next batch of joins: join-batches.ts): 201 {@link QueueTokenView} for a new token
 *   (WAITING with its `position`, or ACTIVE at once when a slot is free and nobody
 *   waits), 200 with the caller's live token for the performance (idempotent); both with
 *   `Location: /queue/tokens/<id>`. 400 `ValidationFailed` (and the JSON body errors);
 *   403 `Forbidden` for an operator; 422 `UnknownPerformance` (member `performanceId`),
 *   422 `UnknownUser`. A refusal changes nothing.
 * - `GET /queue/tokens/:id` (UUID; user token): 200 the token with its live position, for
 *   its owner (operators read any); 404 `NotFound` for another user's or an unknown
 *   token; 400 for a bad id.
 * - `DELETE /queue/tokens/:id` (owner only: 404 to other users, 403 `Forbidden` to
 *   operators): 200 the token CANCELLED (an ACTIVE token's slot goes to the next in line
 *   at once), or as it ended when it already had (idempotent); 409 `QueueTokenInUse`
 *   (members `tokenId`, `reservationId`) while it admits a PENDING reservation, nothing changed.
 */
import { actingUserId, assertActsOn, assertMayRead, callerOf } from '../auth/guard.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { cancelQueueAnswer, joinQueueAnswer } from './commands.ts';
import { JoinBatches } from './join-batches.ts';
import { JoinQueueBody, QueueTokenIdParams, type QueueTokenView } from './schemas.ts';
import { AdmissionRates, findQueueTokenView, queueTokenOwner, queueTokenPath } from './views.ts';

/** Registers `POST /queue/tokens`, `GET /queue/tokens/:id` and `DELETE /queue/tokens/:id`. */
export function registerQueueRoutes(router: AppRouter, deps: AppDeps): void {
  const { api, queue } = deps.config;
  const rates = new AdmissionRates(deps.orm);
  const batches = new JoinBatches(deps.orm, queue);

  router.post<object, object, QueueTokenView>('/queue/tokens', jsonBody(api.bodyLimitBytes), async (ctx) => {
    const { performanceId } = JoinQueueBody.parse(ctx.request.body);
    const userId = actingUserId(callerOf(ctx), undefined);
    const { status, view } = await joinQueueAnswer({ batches, rates, settings: queue }, { performanceId, userId });
    if (status === 201) ctx.state.log.info({ performanceId, userId, tokenId: view.tokenId, status: view.status }, 'queue joined');
    ctx.set('Location', queueTokenPath(view.tokenId));
    ctx.status = status;
    ctx.body = view;
  });

  router.get<object, object, QueueTokenView>('/queue/tokens/:id', async (ctx) => {
    const { id } = QueueTokenIdParams.parse(ctx.params);
    const view = await findQueueTokenView(deps.orm, id, queue);
    if (!view) throw notFound(`queue token ${id}`);
    assertMayRead(callerOf(ctx), view.userId, `queue token ${id}`);
    ctx.body = view;
  });

  router.delete<object, object, QueueTokenView>('/queue/tokens/:id', async (ctx) => {
    const { id } = QueueTokenIdParams.parse(ctx.params);
    assertActsOn(callerOf(ctx), await queueTokenOwner(deps.orm, id), `queue token ${id}`);
    const view = await cancelQueueAnswer(deps.orm, queue, id);
    ctx.state.log.info({ tokenId: id, performanceId: view.performanceId, status: view.status }, 'queue token cancelled');
    ctx.body = view;
  });
}

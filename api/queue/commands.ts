/**
 * Joining and leaving a performance's waiting queue: one local transaction each
 * (db/queue.ts `joinQueue`, `cancelQueueToken`), run by the API through the ORM. No saga:
 * nothing outside the queue's tables changes, so there is nothing to compensate; the
 * worker's admission driver (worker/queue-admission.ts) admits tokens later.
 *
 * A join goes through the performance's batches (join-batches.ts: one autocommitted
 * statement and one commit per batch, db/queue-tokens.ts `joinQueueBatch`), and the wait
 * estimate is read after it, so joins of one performance hold the counter's lock for as
 * short a time as possible.
 */
import { randomUUID } from 'node:crypto';
import { postgresErrorIn } from '../../common/db-errors.ts';
import type { QueueSettings } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { cancelQueueToken, type JoinResult } from '../../db/queue-tokens.ts';
import type { JoinBatches } from './join-batches.ts';
import { ApiError, ErrorCode, ReservationErrorCode, notFound } from '../errors.ts';
import type { QueueTokenView } from './schemas.ts';
import { joinedTokenView, toQueueTokenView, type AdmissionRates } from './views.ts';

/** SQLSTATE of a foreign-key violation. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The 422 answer of a join refused by a foreign key (an unknown performance or user), or
 * undefined when `err` is anything else.
 */
function unknownReference(err: unknown, request: { performanceId: number; userId: number }): ApiError | undefined {
  const found = postgresErrorIn(err);
  if (found?.sqlState !== FOREIGN_KEY_VIOLATION) return undefined;
  const constraint = (found.error as { constraint?: unknown }).constraint;
  if (constraint === 'queue_tokens_user_id_foreign') {
    return new ApiError(422, ErrorCode.UnknownUser, `No user ${request.userId}`, { details: { userId: request.userId } });
  }
  return new ApiError(422, ReservationErrorCode.UnknownPerformance, `No performance ${request.performanceId}`, {
    details: { performanceId: request.performanceId },
  });
}

/** What {@link joinQueueAnswer} answers: 201 with a new token, 200 with the caller's live one. */
export interface JoinAnswer {
  status: 200 | 201;
  view: QueueTokenView;
}

/**
 * User `userId` (the caller) joins the queue of `performanceId`: a new WAITING token
 * (ACTIVE at once when nobody waits and a slot is free), or the user's live token for the
 * performance when there is one (idempotent per user and performance: a repeated join
 * changes nothing).
 *
 * The wait estimate of a WAITING token comes from `rates`.
 *
 * @throws ApiError 422 `UnknownPerformance` (member `performanceId`) or `UnknownUser`
 *   (member `userId`), nothing written; database errors as they are (503 or 500).
 */
export async function joinQueueAnswer(
  deps: { batches: JoinBatches; rates: AdmissionRates; settings: QueueSettings },
  request: { performanceId: number; userId: number },
): Promise<JoinAnswer> {
  const { batches, rates, settings } = deps;
  let result: JoinResult;
  try {
    result = await batches.join(request.performanceId, { userId: request.userId, newTokenId: randomUUID() });
  } catch (err) {
    throw unknownReference(err, request) ?? err;
  }
  return { status: result.created ? 201 : 200, view: await joinedTokenView(rates, result.token, result.position, settings) };
}

/**
 * The owner cancels token `tokenId`, in one transaction: CANCELLED (an ACTIVE token's slot
 * goes to the next WAITING token in the same transaction). Idempotent: an ended token is
 * answered as it is.
 *
 * @returns the token's view (CANCELLED, or as it ended).
 * @throws ApiError 404 `NotFound` when there is no such token; 409 `QueueTokenInUse`
 *   (members `tokenId`, `reservationId`) while it admits a PENDING reservation, nothing changed.
 */
export async function cancelQueueAnswer(orm: Orm, settings: QueueSettings, tokenId: string): Promise<QueueTokenView> {
  const result = await orm.em.fork().transactional((em) => cancelQueueToken(em, tokenId, settings));
  switch (result.kind) {
    case 'not-found':
      throw notFound(`queue token ${tokenId}`);
    case 'in-use':
      throw new ApiError(
        409,
        ReservationErrorCode.QueueTokenInUse,
        `Queue token ${tokenId} admits the PENDING reservation ${result.reservationId}: cancel or pay the reservation first`,
        { details: { tokenId, reservationId: result.reservationId } },
      );
    default:
      return toQueueTokenView(result.token, 0, 0, settings);
  }
}

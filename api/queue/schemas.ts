/**
 * Request and response schemas of the waiting-queue routes (`POST /queue/tokens`,
 * `GET /queue/tokens/:id`, `DELETE /queue/tokens/:id`); the body types are inferred from
 * them. Instants ISO 8601 UTC; waits in seconds.
 */
import { z } from 'zod';
import { QUEUE_TOKEN_END_REASONS, QUEUE_TOKEN_STATUSES } from '../../common/queue.ts';
import { Instant, SelfLinks } from '../schemas.ts';
import { entityId } from '../validation.ts';

/** Body of `POST /queue/tokens`: the performance whose queue the caller joins. */
export const JoinQueueBody = z
  .strictObject({
    performanceId: entityId.meta({ description: 'The performance whose waiting queue the caller joins.' }),
  })
  .meta({ id: 'JoinQueue', description: 'The performance to queue for; the user is always the caller (the token\'s subject).' });

/** A validated `POST /queue/tokens` body. */
export type JoinQueueRequest = z.output<typeof JoinQueueBody>;

/** Path parameters `{ id }` of a queue token route: a UUID, lower-cased. */
export const QueueTokenIdParams = z.object({
  id: z
    .uuid('must be a UUID')
    .transform((id) => id.toLowerCase())
    .meta({ description: 'The queue token id (a UUID; upper case is accepted).' }),
});

/** Status of a queue token (common/queue.ts `QueueTokenStatus`). */
export const QueueTokenStatusSchema = z.enum(QUEUE_TOKEN_STATUSES).meta({
  id: 'QueueTokenStatus',
  description:
    'WAITING: in line (`position`); ACTIVE: admitted until `activeUntil`, the caller may hold seats and pay; EXPIRED: its reservation was paid or its active period ran out (`endReason`); CANCELLED: by its owner.',
});

/**
 * A queue token as its owner sees it. `position` is 1 for the next token to be admitted
 * (the WAITING tokens ahead + 1) while WAITING, 0 once ACTIVE, null once ended;
 * `estimatedWaitSeconds` likewise (an estimate from the recent admission rate, else
 * from the cap and the active period).
 */
export const QueueTokenViewSchema = z
  .object({
    tokenId: z.uuid(),
    performanceId: entityId,
    userId: entityId,
    status: QueueTokenStatusSchema,
    ticket: z.number().int().min(1).meta({ description: 'The arrival number in the performance\'s queue: tokens are admitted in ticket order.' }),
    position: z.number().int().nonnegative().nullable().meta({
      description: 'WAITING: 1 + the WAITING tokens ahead (1 = admitted next); ACTIVE: 0; null once EXPIRED or CANCELLED.',
    }),
    estimatedWaitSeconds: z.number().int().nonnegative().nullable().meta({
      description:
        'WAITING: seconds until admission, estimated from the admissions of the last minute (or, without any, from `QUEUE_ACTIVE_LIMIT` and `QUEUE_ACTIVE_SECONDS`); ACTIVE: 0; null once ended.',
    }),
    activeUntil: Instant.nullable().meta({ description: 'ACTIVE until this instant (unless its reservation is paid or it is cancelled first); null while WAITING.' }),
    joinedAt: Instant,
    admittedAt: Instant.nullable().meta({ description: 'When it became ACTIVE; null if it never did.' }),
    endedAt: Instant.nullable().meta({ description: 'When it stopped admitting (EXPIRED or CANCELLED); null while live.' }),
    endReason: z.enum(QUEUE_TOKEN_END_REASONS).nullable().meta({
      description: 'PAID: its reservation was paid; TIMED_OUT: `activeUntil` passed; CANCELLED: by its owner; null while live.',
    }),
    links: SelfLinks,
  })
  .meta({ id: 'QueueToken', description: 'A waiting-queue token: the caller\'s place in a performance\'s queue, or their admission.' });

/** A queue token as the API shows it. */
export type QueueTokenView = z.output<typeof QueueTokenViewSchema>;

/** The documented waiting-queue routes (handlers: queue/routes.ts). */
import { JoinQueueBody, QueueTokenIdParams, QueueTokenViewSchema } from './schemas.ts';
import { JSON_BODY_PROBLEMS, LocationHeader, jsonAnswer, jsonBody, readRoute, route, type DocumentedRoute } from '../openapi/operation.ts';

/** The waiting-queue routes. */
export const queueRoutes: DocumentedRoute[] = [
  route('post', '/queue/tokens', {
    access: 'user',
    operationId: 'joinQueue',
    tag: 'Queue',
    summary: 'Join the waiting queue of a performance',
    description: [
      'Gives the caller a queue token for the performance. Tokens are admitted in arrival order (`ticket`), at most `QUEUE_ACTIVE_LIMIT` ACTIVE per performance at any instant; an ACTIVE token admits its owner for `QUEUE_ACTIVE_SECONDS` (`activeUntil`), until its reservation is paid, or until its owner cancels it. When a slot frees, the next WAITING token becomes ACTIVE without any request: read the token (`GET /queue/tokens/{id}`) to follow its `position`.',
      '',
      'Holding seats (`POST /reservations`) and paying (`POST /reservations/{id}/payment`) need the caller\'s ACTIVE token for the performance in the `Queue-Token` header; a token admits one PENDING reservation at a time.',
      '',
      'Joining again while the caller has a live (WAITING or ACTIVE) token for the performance answers that token with 200 and changes nothing. Operators queue for nobody (403).',
    ].join('\n'),
    requestBody: jsonBody(JoinQueueBody, 'The performance to queue for.'),
    answers: {
      201: jsonAnswer(QueueTokenViewSchema, 'A new token: WAITING with its `position`, or ACTIVE at once when a slot was free and nobody waited.', { Location: LocationHeader }),
      200: jsonAnswer(QueueTokenViewSchema, 'The caller\'s live token for the performance (nothing changed).', { Location: LocationHeader }),
    },
    problems: {
      403: ['Forbidden'],
      ...JSON_BODY_PROBLEMS,
      422: ['UnknownPerformance', 'UnknownUser'],
    },
  }),

  readRoute('/queue/tokens/:id', QueueTokenIdParams, {
    access: 'user',
    operationId: 'getQueueToken',
    tag: 'Queue',
    summary: 'Read a queue token with its live position',
    description:
      'The caller\'s token (operators read any; another user\'s answers 404): its status, live `position` (1 = admitted next) and `estimatedWaitSeconds` while WAITING, `activeUntil` once ACTIVE, `endedAt` and `endReason` once ended.',
    schema: QueueTokenViewSchema,
    answer: 'The queue token.',
  }),

  route('delete', '/queue/tokens/:id', {
    access: 'user',
    operationId: 'cancelQueueToken',
    tag: 'Queue',
    summary: 'Leave the queue, or give up an admission',
    description: [
      'Cancels the caller\'s token: a WAITING token leaves the line, an ACTIVE one gives up its slot, which the next WAITING token takes at once. Cancelling a token that already ended answers it as it is (idempotent).',
      '',
      'Refused with 409 `QueueTokenInUse` while the token admits a PENDING reservation, and nothing changes: pay or cancel the reservation first. Only the owner may cancel (another user\'s token answers 404, an operator 403).',
    ].join('\n'),
    params: { path: QueueTokenIdParams },
    answers: {
      200: jsonAnswer(QueueTokenViewSchema, 'The token, CANCELLED (or as it had already ended).'),
    },
    problems: {
      400: ['ValidationFailed'],
      403: ['Forbidden'],
      404: ['NotFound'],
      409: ['QueueTokenInUse'],
    },
  }),
];

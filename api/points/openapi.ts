/** The documented point routes (handlers: points/routes.ts). */
import { LedgerPageSchema, LedgerQuery, PendingTopUpSchema, PointsViewSchema, TopUpBody, TopUpResultSchema } from './schemas.ts';
import { IdempotencyKeyParam, JSON_BODY_PROBLEMS, LocationHeader, idParams, jsonAnswer, jsonBody, pagedListRoute, readRoute, route, type DocumentedRoute } from '../openapi/operation.ts';

/** The point routes. */
export const pointRoutes: DocumentedRoute[] = [
  readRoute('/users/:id/points', idParams('The user id.'), {
    access: 'user',
    operationId: 'getPoints',
    tag: 'Points',
    summary: 'Read a user\'s point balance',
    schema: PointsViewSchema,
    answer: 'The balance and the link to its ledger.',
  }),

  pagedListRoute(
    '/users/:id/points/ledger',
    LedgerQuery,
    {
      access: 'user',
      operationId: 'listLedger',
      tag: 'Points',
      summary: 'List the movements of a user\'s balance, newest first',
      description: 'Top-ups, payments and refunds, newest first; paged by `limit` and `cursor` (follow `next`).',
      schema: LedgerPageSchema,
      answer: 'A page of ledger movements.',
    },
    idParams('The user id.'),
  ),

  route('post', '/users/:id/points/top-ups', {
    access: 'user',
    operationId: 'topUpPoints',
    tag: 'Points',
    summary: 'Add points to a user\'s balance',
    description:
      'Runs the `topUpPoints` workflow (once per `Idempotency-Key`) and waits up to `ORDER_OUTCOME_WAIT_MS` for the new balance. ' +
      'A top-up that would take the balance above `POINTS_BALANCE_LIMIT` is refused with 422 `BalanceLimitExceeded` and changes nothing.',
    params: { path: idParams('The user id.') },
    headers: [IdempotencyKeyParam],
    requestBody: jsonBody(TopUpBody, 'The points to add.'),
    answers: {
      201: jsonAnswer(TopUpResultSchema, 'The points were added.', { Location: LocationHeader }),
      202: jsonAnswer(PendingTopUpSchema, 'The top-up has not finished within the wait; repeat the request with the same key for its result.', {
        Location: LocationHeader,
      }),
    },
    problems: { ...JSON_BODY_PROBLEMS, 403: ['Forbidden'], 404: ['NotFound'], 422: ['IdempotencyKeyReused', 'BalanceLimitExceeded'], 503: ['TemporalUnavailable'] },
  }),
];

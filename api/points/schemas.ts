/**
 * Request and response schemas of the point routes (`GET /users/:id/points`,
 * `GET /users/:id/points/ledger`, `POST /users/:id/points/top-ups`); the body types are
 * inferred from them. One point pays one won.
 */
import { z } from 'zod';
import { LEDGER_KINDS } from '../../db/entities/index.ts';
import { cursorCodec, pageQuery, pageSchema } from '../pagination.ts';
import { ApiPath, Instant } from '../schemas.ts';
import { entityId } from '../validation.ts';

/** Body of `POST /users/:id/points/top-ups`: `amount` in points. */
export const TopUpBody = z
  .strictObject({ amount: z.number().int().min(1).max(10_000_000).meta({ description: 'Points to add, 1..10,000,000.' }) })
  .meta({ id: 'TopUp', description: 'A top-up of a user\'s point balance.' });

/** A user's point balance and where to read its movements. */
export const PointsViewSchema = z
  .object({
    userId: entityId,
    balancePoints: z.number().int().nonnegative().meta({ description: 'The balance, in points (1 point pays 1 won).' }),
    links: z.object({ ledger: ApiPath.meta({ description: 'The movements of the balance, newest first.' }) }),
  })
  .meta({ id: 'Points', description: 'A user\'s point balance; `links.ledger` lists the movements that make it.' });

/** Body of `GET /users/:id/points`. */
export type PointsView = z.output<typeof PointsViewSchema>;

/** One ledger movement; `amountPoints` is positive, `kind` gives the sign (PAYMENT debits). */
export const LedgerEntryViewSchema = z
  .object({
    kind: z.enum(LEDGER_KINDS).meta({ description: 'TOP_UP and REFUND credit the balance, PAYMENT debits it.' }),
    amountPoints: z.number().int().nonnegative().meta({ description: 'Points moved, never negative; a REFUND of 0 marks a saga undone before it paid.' }),
    reference: z.string().meta({ description: 'The saga (workflow id) or top-up the movement belongs to.' }),
    createdAt: Instant,
  })
  .meta({ id: 'LedgerEntry', description: 'One movement of a point balance.' });

/** One item of `GET /users/:id/points/ledger`. */
export type LedgerEntryView = z.output<typeof LedgerEntryViewSchema>;

/** Cursor of the ledger: the id of the last movement shown (the list is by id descending). */
export const ledgerCursor = cursorCodec('ledger', z.strictObject({ id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }));

/** Query of `GET /users/:id/points/ledger`: `limit` and `cursor` (api/pagination.ts). */
export const LedgerQuery = pageQuery(ledgerCursor);

/** Body of `GET /users/:id/points/ledger`: a page of movements, newest first. */
export const LedgerPageSchema = pageSchema(LedgerEntryViewSchema, {
  id: 'LedgerPage',
  description: 'A page of a user\'s point movements, newest first.',
});

/** Result of a top-up: the new balance, in points (common/points.ts `TopUpResult`). */
export const TopUpResultSchema = z
  .object({
    topUpId: z.uuid().meta({ description: 'The top-up (derived from the Idempotency-Key when given).' }),
    userId: entityId,
    amountPoints: z.number().int().min(1).meta({ description: 'Points added.' }),
    balancePoints: z.number().int().nonnegative().meta({ description: 'The balance after the top-up, in points.' }),
  })
  .meta({ id: 'TopUpResult', description: 'A completed top-up and the balance it left.' });

/** Answer of a top-up that has not finished within the wait (202). */
export const PendingTopUpSchema = z
  .object({
    topUpId: z.uuid(),
    userId: entityId,
    amountPoints: z.number().int().min(1),
    status: z.literal('PENDING'),
  })
  .meta({
    id: 'PendingTopUp',
    description: 'The top-up runs but has not finished within the wait; repeat the request with the same Idempotency-Key for its result.',
  });

/** Answer of a top-up that has not finished within the wait (202). */
export type PendingTopUpBody = z.output<typeof PendingTopUpSchema>;

/** Body of `GET /users/:id/points/ledger`. */
export type LedgerPage = z.output<typeof LedgerPageSchema>;

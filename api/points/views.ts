/**
 * The Points read model: a user's balance (`GET /users/:id/points`) and the point ledger
 * (`GET /users/:id/points/ledger`): the movements of the balance newest first, by ledger
 * id (ids grow with insertion), paged by a keyset cursor on the id (api/pagination.ts).
 */
import { PointAccount, type LedgerKind } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import { toPage } from '../pagination.ts';
import { ledgerCursor, type LedgerPage, type PointsView } from './schemas.ts';

/** Path of a user's points resource: `/users/<userId>/points`. */
export function pointsPath(userId: number): string {
  return `/users/${userId}/points`;
}

/** The balance of user `userId` with the link to its ledger; null when the user has no point account. */
export async function findPointsView(orm: Orm, userId: number): Promise<PointsView | null> {
  const account = await orm.em.fork().findOne(PointAccount, { user: userId });
  if (!account) return null;
  return { userId, balancePoints: account.balancePoints, links: { ledger: `${pointsPath(userId)}/ledger` } };
}

/** What {@link topUpStanding} read: the balance in points, and whether the top-up is already in the ledger. */
export interface TopUpStanding {
  balancePoints: number;
  recorded: boolean;
}

/**
 * User `userId`'s balance and whether top-up `topUpId` is already recorded (its TOP_UP
 * ledger row, reference `points-top-up-<topUpId>`), in one statement.
 *
 * @returns null when the user has no point account.
 */
export async function topUpStanding(orm: Orm, userId: number, topUpId: string): Promise<TopUpStanding | null> {
  const [row] = await orm.em.fork().execute<{ balance_points: number; recorded: boolean }[]>(
    `select a.balance_points,
            exists (select 1 from point_ledger l where l.reference = ? and l.kind = 'TOP_UP') as recorded
     from point_accounts a where a.user_id = ?`,
    [`points-top-up-${topUpId}`, userId] as never[],
    'all',
  );
  return row ? { balancePoints: row.balance_points, recorded: row.recorded } : null;
}

/** `to_char` format of a UTC timestamp as `Date#toISOString` writes it (milliseconds, `Z`). */
const ISO_8601_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** One row of {@link listLedger}'s statement. */
interface LedgerRow {
  /** The ledger id (a bigint, as JSON number: ids stay far below 2^53). */
  id: number;
  kind: LedgerKind;
  amountPoints: number;
  reference: string;
  createdAt: string;
}

/**
 * A page of user `userId`'s ledger, newest first, starting after ledger id `afterId` when
 * given. One statement reads whether the user has a point account and `limit + 1` rows
 * (the extra one tells whether there is a next page) through the index
 * `point_ledger_account_user_id_id_index`.
 *
 * @returns null when the user has no point account; otherwise the page.
 */
export async function listLedger(orm: Orm, userId: number, limit: number, afterId: number | undefined): Promise<LedgerPage | null> {
  const keyset = afterId === undefined ? '' : 'and l.id < ?';
  const params = afterId === undefined ? [userId, userId, limit + 1] : [userId, userId, afterId, limit + 1];
  const [row] = await orm.em.fork().execute<{ known: boolean; entries: LedgerRow[] }[]>(
    `select exists (select 1 from point_accounts where user_id = ?) as known,
            coalesce((select json_agg(json_build_object(
                               'id', page.id, 'kind', page.kind, 'amountPoints', page.amount_points,
                               'reference', page.reference,
                               'createdAt', to_char(page.created_at at time zone 'UTC', ${ISO_8601_UTC}))
                             order by page.id desc)
                      from (select l.id, l.kind, l.amount_points, l.reference, l.created_at from point_ledger l
                            where l.account_user_id = ? ${keyset}
                            order by l.id desc limit ?) page), '[]'::json) as entries`,
    params as never[],
    'all',
  );
  if (!row?.known) return null;
  return toPage(row.entries, {
    limit,
    path: `${pointsPath(userId)}/ledger`,
    codec: ledgerCursor,
    keyOf: (entry) => ({ id: entry.id }),
    item: ({ kind, amountPoints, reference, createdAt }) => ({ kind, amountPoints, reference, createdAt }),
  });
}

/**
 * The references of an order request (its user and its products), checked before a saga
 * or the benchmark's single-transaction baseline starts, so an order naming something
 * that does not exist is refused with a 422 and changes nothing.
 */
import type { Orm } from '../../db/orm.ts';
import { ApiError, ErrorCode } from '../errors.ts';

/**
 * Refuses an order whose user has no point account or that names unknown product ids,
 * with one statement against the database.
 *
 * @param productIds distinct product ids of the order's lines
 * @throws ApiError 422 UnknownUser (extension member `userId`) first, else 422
 *   UnknownProduct (member `productIds`: the unknown ones, in request order).
 */
export async function checkOrderReferences(orm: Orm, userId: number, productIds: number[]): Promise<void> {
  const [row] = await orm.em.fork().execute<{ user_known: boolean; known: number[] }[]>(
    `select exists (select 1 from point_accounts where user_id = ?) as user_known,
            array(select id from products where id in (?)) as known`,
    [userId, productIds] as never[],
    'all',
  );
  if (!row?.user_known) {
    throw new ApiError(422, ErrorCode.UnknownUser, `User ${userId} has no point account`, { details: { userId } });
  }
  const known = new Set(row.known);
  const missing = productIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new ApiError(422, ErrorCode.UnknownProduct, `Unknown product ids: ${missing.join(', ')}`, {
      details: { productIds: missing },
    });
  }
}

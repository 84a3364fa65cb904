/**
 * The order list of a user (`GET /users/:id/orders`): the user's orders newest first, by
 * creation time then id, paged by a keyset cursor on both (api/pagination.ts). Only
 * orders whose saga has written the order row are listed; a saga that has just started
 * shows up once it has.
 */
import type { OrderStatus } from '../../common/index.ts';
import type { Orm } from '../../db/orm.ts';
import { toPage } from '../pagination.ts';
import { orderCursor, type OrderPage } from './schemas.ts';

/** `to_char` format of a UTC timestamp as `Date#toISOString` writes it (milliseconds, `Z`). */
const ISO_8601_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** One row of {@link listUserOrders}'s statement: an order and its cursor key. */
interface OrderListRow {
  id: string;
  status: OrderStatus;
  totalWon: number;
  createdAt: string;
  /** `created_at` in epoch microseconds, as text (a bigint). */
  createdAtUs: string;
}

/** Where a page of a user's orders starts: after this order (see {@link orderCursor}). */
export type OrderListAfter = { createdAtUs: number; id: string };

/**
 * A page of user `userId`'s orders, newest first, starting after `after` when given.
 * One statement reads whether the user exists and `limit + 1` orders (the extra one
 * tells whether there is a next page); the index `orders_user_id_created_at_id_index`
 * serves the keyset.
 *
 * @returns null when there is no such user; otherwise the page (empty without orders).
 */
export async function listUserOrders(orm: Orm, userId: number, limit: number, after: OrderListAfter | undefined): Promise<OrderPage | null> {
  // The row comparison walks the (user_id, created_at, id) index backwards from the cursor.
  const keyset = after
    ? `and (o.created_at, o.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)`
    : '';
  const params = after ? [userId, userId, after.createdAtUs, after.id, limit + 1] : [userId, userId, limit + 1];
  const [row] = await orm.em.fork().execute<{ user_known: boolean; orders: OrderListRow[] }[]>(
    `select exists (select 1 from app_users where id = ?) as user_known,
            coalesce((select json_agg(json_build_object(
                               'id', page.id, 'status', page.status, 'totalWon', page.total_won,
                               'createdAt', to_char(page.created_at at time zone 'UTC', ${ISO_8601_UTC}),
                               'createdAtUs', ((extract(epoch from page.created_at) * 1000000)::bigint)::text)
                             order by page.created_at desc, page.id desc)
                      from (select o.id, o.status, o.total_won, o.created_at from orders o
                            where o.user_id = ? ${keyset}
                            order by o.created_at desc, o.id desc limit ?) page), '[]'::json) as orders`,
    params as never[],
    'all',
  );
  if (!row?.user_known) return null;
  return toPage(row.orders, {
    limit,
    path: `/users/${userId}/orders`,
    codec: orderCursor,
    keyOf: (order) => ({ createdAtUs: Number(order.createdAtUs), id: order.id }),
    item: (order) => ({
      orderId: order.id,
      status: order.status,
      totalWon: order.totalWon,
      createdAt: order.createdAt,
      links: { self: `/orders/${order.id}` },
    }),
  });
}

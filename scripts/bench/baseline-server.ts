/**
 * Bench-only: the "facade" design the sagas replace, as the benchmark's baseline. The
 * same Koa app as the API (createApp: HTTP metrics, error handler, request context) with
 * one extra route, `POST /baseline/orders`, that takes the same body, makes the same
 * checks and does the same business writes as a successful checkout saga (order and lines,
 * stock taken and recorded as sold, points paid and a ledger row) in ONE PostgreSQL
 * transaction, holding its row locks until it commits. A business failure (out of stock,
 * insufficient points) rolls everything back and answers like the API (409 / 422).
 * No Temporal, no data-platform call.
 *
 * Run: `node scripts/bench/baseline-server.ts` with the API's environment; it logs
 * `baseline listening` with its URL. Not part of the product.
 */
import { Router } from '@koa/router';
import { Client } from '@temporalio/client';
import type { EntityManager } from '@mikro-orm/postgresql';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../config/logger.ts';
import { openOrm, type Orm } from '../../db/orm.ts';
import type { AppState } from '../../api/app.ts';
import { startApiServer } from '../../api/server.ts';
import { ApiError } from '../../api/errors.ts';
import { jsonBody } from '../../api/middleware/json-body.ts';
import { orderInput } from '../../api/orders/commands.ts';
import { CreateOrderBody } from '../../api/orders/schemas.ts';
import { loadOrderRecord, orderPath, toOrderView } from '../../api/orders/views.ts';
import { BASELINE_ORDERS_PATH } from './paths.ts';


type Line = { productId: number; quantity: number; unitPriceWon: number };

/** The whole checkout in one transaction; throws ApiError (rolled back) on a business failure. */
async function checkoutInOneTransaction(em: EntityManager, orderId: string, userId: number, items: { productId: number; quantity: number }[], requestHash: string): Promise<void> {
  const run = <T extends object>(q: string, params: unknown[]) => em.execute<T[]>(q, params as never[], 'all');
  const prices = new Map(
    (await run<{ id: number; price_won: number }>('select id, price_won from products where id in (?)', [items.map((i) => i.productId)])).map((p) => [p.id, p.price_won]),
  );
  const lines: Line[] = items.map((i) => ({ ...i, unitPriceWon: prices.get(i.productId)! }));
  const totalWon = lines.reduce((s, l) => s + l.quantity * l.unitPriceWon, 0);
  await run(
    `insert into orders (id, user_id, status, total_won, workflow_id, request_hash, created_at, updated_at, confirmed_at)
     values (?, ?, 'CONFIRMED', ?, ?, ?, now(), now(), now())`,
    [orderId, userId, totalWon, `facade-${orderId}`, requestHash],
  );
  for (const line of lines) {
    await run('insert into order_lines (order_id, product_id, quantity, unit_price_won) values (?, ?, ?, ?)', [orderId, line.productId, line.quantity, line.unitPriceWon]);
  }
  // Products in id order (items are sorted), conditional updates: no deadlock, no overselling.
  const short: number[] = [];
  for (const line of lines) {
    const updated = await run('update products set stock = stock - ? where id = ? and stock >= ? returning id', [line.quantity, line.productId, line.quantity]);
    if (updated.length === 0) short.push(line.productId);
  }
  if (short.length > 0) throw new ApiError(409, 'OutOfStock', `Not enough stock for products ${short.join(', ')}`);
  for (const line of lines) {
    await run(
      `insert into stock_reservations (order_id, product_id, quantity, status, created_at, updated_at) values (?, ?, ?, 'COMMITTED', now(), now())`,
      [orderId, line.productId, line.quantity],
    );
  }
  const [account] = await run<{ balance_points: number }>('select balance_points from point_accounts where user_id = ? for update', [userId]);
  if (!account || account.balance_points < totalWon) {
    throw new ApiError(422, 'InsufficientPoints', `Balance ${account?.balance_points ?? 0} points is below the ${totalWon} points to pay`);
  }
  await run('update point_accounts set balance_points = balance_points - ?, updated_at = now() where user_id = ?', [totalWon, userId]);
  await run(
    `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at) values (?, 'PAYMENT', ?, ?, ?, now())`,
    [userId, totalWon, `facade-${orderId}`, `facade-${orderId}:pay`],
  );
}

/** Registers `POST /baseline/orders` on a router of its own. */
function baselineRouter(orm: Orm, bodyLimitBytes: number): Router<AppState> {
  const router = new Router<AppState>();
  router.post(BASELINE_ORDERS_PATH, jsonBody(bodyLimitBytes), async (ctx) => {
    const { orderId, userId, items, requestHash } = await orderInput(orm, CreateOrderBody.required({ userId: true }).parse(ctx.request.body));
    await orm.em.fork().transactional((em) => checkoutInOneTransaction(em, orderId, userId, items, requestHash));
    const record = await loadOrderRecord(orm, orderId);
    ctx.set('Location', orderPath(orderId));
    ctx.status = 201;
    ctx.body = toOrderView(record!, null);
  });
  return router;
}

const config = loadConfig();
const logger = createLogger(config, 'baseline');
const orm = await openOrm({ url: config.database.url, poolMax: config.database.poolMax });
// The app wants a Temporal client; a lazy one never connects, since no baseline route uses it.
const client = new Client({ namespace: config.temporal.namespace });
// The API's app and server (api/server.ts), plus the baseline route.
const { server, url } = await startApiServer(
  { orm, client, config, logger },
  { host: config.api.host, port: config.api.port, extraRouter: baselineRouter(orm, config.api.bodyLimitBytes) },
);
logger.warn({ url }, 'baseline listening');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void orm.close().then(() => process.exit(0)));
    server.closeAllConnections();
  });
}

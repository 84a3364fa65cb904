/**
 * The Inventory stock steps against PostgreSQL, called directly with the order's lines in
 * their input (activities/inventory.ts): order_lines is made to disagree with the input,
 * and only the input counts. The interleavings of one order's stock steps (reserve vs
 * release) and of the pivot vs release serialize on the order's stock_reservations rows,
 * never on its `orders` row. Split from activities.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { failureType } from '../helpers/failures.ts';
import type { Orm } from '../../db/orm.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import type { DataPlatformClient } from '../../activities/data-platform.ts';
import { orderWorkflowId, stepKey } from '../../common/ids.ts';
import pg from 'pg';
import { createProduct, createUser, openTestOrm, stockOf, testConfig } from '../helpers/db.ts';
import { RowLocker, waitForBlocked } from '../helpers/row-locks.ts';

let orm: Orm;
let acts: Activities;
const acceptingPlatform: DataPlatformClient = {
  async send() {
    return { status: 201, duplicate: false };
  },
};

beforeAll(async () => {
  orm = await openTestOrm();
  acts = createActivities({ orm, dataPlatform: acceptingPlatform });
});

afterAll(async () => {
  await orm?.close();
});

/**
 * Inventory reads no table of Orders when the saga passes the order's lines
 * (activities/inventory.ts): here order_lines is made to disagree with the input, and
 * only the input counts. The interleavings of one order's stock steps and the pivot
 * serialize on the order's stock_reservations rows, never on its `orders` row.
 */
describe('stock steps take the lines from their input', () => {
  const url = testConfig().database.url;
  let observer: pg.Client;
  const lockers: RowLocker[] = [];
  const openLocker = async () => {
    const locker = await RowLocker.open(url);
    lockers.push(locker);
    return locker;
  };

  beforeAll(async () => {
    observer = new pg.Client({ connectionString: url });
    await observer.connect();
  });

  afterAll(async () => {
    for (const locker of lockers) await locker.close();
    await observer?.end();
  });

  /** An order of two lines (2 of the first product, 3 of the second, 10 in stock each). */
  async function twoLineOrder() {
    const p1 = await createProduct(orm, 10, 1_000);
    const p2 = await createProduct(orm, 10, 500);
    const userId = await createUser(orm, 100_000);
    const orderId = randomUUID();
    const workflowId = orderWorkflowId(orderId);
    const order = await acts.createOrder({ orderId, userId, workflowId, requestHash: 'h', items: [{ productId: p1, quantity: 2 }, { productId: p2, quantity: 3 }] });
    return { p1, p2, userId, orderId, workflowId, order, lines: order.lines.map((l) => ({ productId: l.productId, quantity: l.quantity })) };
  }

  const execute = (sql: string, params: unknown[]) => orm.em.fork().execute(sql, params as never[]);
  const stockRows = (orderId: string) =>
    execute('select product_id as "productId", quantity, status from stock_reservations where order_id = ? order by product_id', [orderId]);

  it('reserveStock and releaseStock use the lines given, not order_lines', async () => {
    const { p1, p2, orderId, lines } = await twoLineOrder();
    // order_lines now says 7 of p1 and nothing of p2: the legacy path would take 7 and 0.
    await execute('update order_lines set quantity = 7 where order_id = ? and product_id = ?', [orderId, p1]);
    await execute('delete from order_lines where order_id = ? and product_id = ?', [orderId, p2]);

    expect(await acts.reserveStock({ orderId, lines })).toEqual({ orderId, lines: [{ productId: p1, quantity: 2 }, { productId: p2, quantity: 3 }] });
    expect([await stockOf(orm, p1), await stockOf(orm, p2)]).toEqual([8, 7]);
    expect(await acts.reserveStock({ orderId, lines })).toEqual({ orderId, lines: [{ productId: p1, quantity: 2 }, { productId: p2, quantity: 3 }] });
    expect([await stockOf(orm, p1), await stockOf(orm, p2)]).toEqual([8, 7]);

    expect(await acts.releaseStock({ orderId, lines })).toEqual({ orderId, lines: [{ productId: p1, quantity: 2 }, { productId: p2, quantity: 3 }] });
    expect(await acts.releaseStock({ orderId, lines })).toEqual({ orderId, lines: [] });
    expect([await stockOf(orm, p1), await stockOf(orm, p2)]).toEqual([10, 10]);
    expect(await stockRows(orderId)).toEqual([
      { productId: p1, quantity: 2, status: 'RELEASED' },
      { productId: p2, quantity: 3, status: 'RELEASED' },
    ]);
  });

  it('releaseStock before any reservation leaves tombstones for the lines given; the late reserveStock is refused', async () => {
    const { p1, p2, orderId, lines } = await twoLineOrder();
    await execute('delete from order_lines where order_id = ?', [orderId]);
    expect(await acts.releaseStock({ orderId, lines })).toEqual({ orderId, lines: [] });
    expect(await stockRows(orderId)).toEqual([
      { productId: p1, quantity: 0, status: 'RELEASED' },
      { productId: p2, quantity: 0, status: 'RELEASED' },
    ]);
    expect(await failureType(acts.reserveStock({ orderId, lines }))).toBe('SagaAlreadyCompensated');
    expect([await stockOf(orm, p1), await stockOf(orm, p2)]).toEqual([10, 10]);
  });

  it('reserveStock with lines says OutOfStock and takes nothing when one line is short', async () => {
    const { p1, p2, orderId } = await twoLineOrder();
    const lines = [{ productId: p1, quantity: 2 }, { productId: p2, quantity: 11 }];
    expect(await failureType(acts.reserveStock({ orderId, lines }))).toBe('OutOfStock');
    expect([await stockOf(orm, p1), await stockOf(orm, p2)]).toEqual([10, 10]);
    expect(await stockRows(orderId)).toEqual([]);
  });

  it('a releaseStock arriving while reserveStock is in flight waits for it and returns what it took', async () => {
    const { p1, p2, orderId, lines } = await twoLineOrder();
    // reserveStock writes its claim, then waits on the product row a concurrent transaction holds.
    const hold = new pg.Client({ connectionString: url });
    await hold.connect();
    try {
      await hold.query('begin');
      await hold.query('select 1 from products where id = $1 for no key update', [p2]);
      const reserve = acts.reserveStock({ orderId, lines });
      await pollUntilBlocked(hold, /update products set stock = stock -/);
      const release = acts.releaseStock({ orderId, lines });
      await pollUntilBlocked(null, /insert into stock_reservations/);
      await hold.query('rollback');
      expect(await reserve).toEqual({ orderId, lines });
      expect(await release).toEqual({ orderId, lines });
    } finally {
      await hold.end();
    }
    expect([await stockOf(orm, p1), await stockOf(orm, p2)]).toEqual([10, 10]);
    expect((await stockRows(orderId)).map((r: any) => r.status)).toEqual(['RELEASED', 'RELEASED']);
  });

  it('concurrent reserveStock and releaseStock of one order always end with the stock returned', async () => {
    const orders = await Promise.all(Array.from({ length: 8 }, () => twoLineOrder()));
    await Promise.all(
      orders.flatMap(({ orderId, lines }) => [
        acts.reserveStock({ orderId, lines }).catch((err) => err),
        acts.reserveStock({ orderId, lines }).catch((err) => err),
        acts.releaseStock({ orderId, lines }),
      ]),
    );
    // A reserve that came after the release was refused; one that came before was released.
    await Promise.all(orders.map(({ orderId, lines }) => acts.releaseStock({ orderId, lines })));
    for (const { orderId, p1, p2 } of orders) {
      expect([await stockOf(orm, p1), await stockOf(orm, p2)]).toEqual([10, 10]);
      expect((await stockRows(orderId)).map((r: any) => r.status)).toEqual(['RELEASED', 'RELEASED']);
    }
  });

  /** Runs the pivot and releaseStock of a reserved, paid order, both queued behind a lock on its stock lines, `first` queued first. */
  async function pivotAndRelease(first: 'confirmOrder' | 'releaseStock') {
    const o = await twoLineOrder();
    await acts.reserveStock({ orderId: o.orderId, lines: o.lines });
    await acts.payWithPoints({ userId: o.userId, amountPoints: o.order.totalWon, sagaId: o.workflowId, idempotencyKey: stepKey(o.workflowId, 'pay') });
    const locker = await openLocker();
    await locker.lock('stock_reservations', [o.orderId]);
    const start = {
      confirmOrder: () => acts.confirmOrder({ orderId: o.orderId }),
      releaseStock: () => acts.releaseStock({ orderId: o.orderId, lines: o.lines }),
    };
    const second = first === 'confirmOrder' ? 'releaseStock' : 'confirmOrder';
    const firstRun = start[first]().then((r) => r, (err) => err);
    await waitForBlocked(observer, locker, { count: 1, query: /from stock_reservations where order_id = .* for update/ });
    const secondRun = start[second]().then((r) => r, (err) => err);
    await waitForBlocked(observer, locker, { count: 2, query: /from stock_reservations where order_id = .* for update/ });
    await locker.release();
    return { o, results: { [first]: await firstRun, [second]: await secondRun } as Record<'confirmOrder' | 'releaseStock', any> };
  }

  it('the pivot and releaseStock serialize on the stock lines: pivot first, the sold stock is not released', async () => {
    const { o, results } = await pivotAndRelease('confirmOrder');
    expect(results.confirmOrder).toEqual({ orderId: o.orderId, status: 'CONFIRMED' });
    expect(results.releaseStock).toEqual({ orderId: o.orderId, lines: [] });
    expect([await stockOf(orm, o.p1), await stockOf(orm, o.p2)]).toEqual([8, 7]);
    expect((await stockRows(o.orderId)).map((r: any) => r.status)).toEqual(['COMMITTED', 'COMMITTED']);
  });

  it('the pivot and releaseStock serialize on the stock lines: release first, the pivot refuses', async () => {
    const { o, results } = await pivotAndRelease('releaseStock');
    expect(results.releaseStock).toEqual({ orderId: o.orderId, lines: o.lines });
    expect(results.confirmOrder).toBeInstanceOf(ApplicationFailure);
    expect(results.confirmOrder.type).toBe('SagaAlreadyCompensated');
    expect([await stockOf(orm, o.p1), await stockOf(orm, o.p2)]).toEqual([10, 10]);
    const [order] = await execute('select status from orders where id = ?', [o.orderId]);
    expect(order).toEqual({ status: 'PENDING' });
  });

  /** Resolves once a statement matching `query` waits for a lock (behind `holder`'s backend when given). */
  async function pollUntilBlocked(holder: pg.Client | null, query: RegExp): Promise<void> {
    const holderPid = holder ? (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid : null;
    for (let i = 0; i < 600; i++) {
      const { rows } = await observer.query<{ query: string; blockers: number[] }>(
        "select query, pg_blocking_pids(pid) as blockers from pg_stat_activity where wait_event_type = 'Lock'",
      );
      if (rows.some((r) => query.test(r.query) && (holderPid === null || r.blockers.includes(holderPid)))) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no statement matching ${String(query)} waits for a lock`);
  }
});

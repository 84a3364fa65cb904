/**
 * Money as 64-bit integers and the business limits on it, at the level of the database
 * and the activities (issue 12, finding 1): every money column is `bigint`, read back as
 * an exact JS number; a top-up above the balance cap is refused under the account's row
 * lock, also when two race; a refund is never refused and cannot overflow a balance; an
 * order's total is bounded by the configured limit, not by a 32-bit column.
 * The same through the HTTP API and the sagas: points-limits.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Orm } from '../../db/orm.ts';
import { PointAccount } from '../../db/entities/index.ts';
import { MONEY_COLUMNS } from '../../db/migrations/Migration20261204120000_money_bigint.ts';
import { createOrderActivities } from '../../activities/orders.ts';
import { createPointsActivities } from '../../activities/points.ts';
import { orderWorkflowId, stepKey } from '../../common/ids.ts';
import { failureType } from '../helpers/failures.ts';
import { balanceOf, createProduct, createUser, ledgerOf, openTestOrm } from '../helpers/db.ts';

/** 2^31 - 1: the largest value of the 32-bit columns money used to live in. */
const INT32_MAX = 2_147_483_647;

let orm: Orm;

beforeAll(async () => {
  orm = await openTestOrm();
});

afterAll(async () => {
  await orm?.close();
});

describe('money columns', () => {
  it('are all bigint', async () => {
    const rows = await orm.em.fork().execute<{ table_name: string; column_name: string; data_type: string }[]>(
      `select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'public' and (table_name, column_name) in (${MONEY_COLUMNS.map(() => '(?, ?)').join(', ')})
        order by table_name, column_name`,
      MONEY_COLUMNS.flat(),
    );
    expect(rows).toHaveLength(MONEY_COLUMNS.length);
    expect(rows.filter((r) => r.data_type !== 'bigint')).toEqual([]);
  });

  it('read back as exact numbers, not strings, through raw SQL and entities', async () => {
    const [row] = await orm.em.fork().execute<{ v: unknown }[]>('select 5000000000::bigint as v');
    expect(row!.v).toBe(5_000_000_000);
    const userId = await createUser(orm, 3_000_000_000);
    const [raw] = await orm.em.fork().execute<{ balance_points: unknown }[]>('select balance_points from point_accounts where user_id = ?', [userId]);
    expect(raw!.balance_points).toBe(3_000_000_000);
    const account = await orm.em.fork().findOneOrFail(PointAccount, { user: userId });
    expect(account.balancePoints).toBe(3_000_000_000);
  });

  it('refuse to read a bigint beyond Number.MAX_SAFE_INTEGER instead of rounding it', async () => {
    await expect(orm.em.fork().execute('select 9007199254740993::bigint as v')).rejects.toThrow(/beyond Number.MAX_SAFE_INTEGER/);
  });
});

describe('the balance cap in topUpPoints', () => {
  const CAP = 1_000_000;
  let points: ReturnType<typeof createPointsActivities>;
  beforeAll(() => {
    points = createPointsActivities({ orm, balanceLimitPoints: CAP });
  });

  it('credits up to the cap, refuses what would exceed it and changes nothing', async () => {
    const userId = await createUser(orm, CAP - 500);
    const atCap = await points.topUpPoints({ topUpId: randomUUID(), userId, amountPoints: 500 });
    expect(atCap.balancePoints).toBe(CAP);
    const ledger = await ledgerOf(orm, userId);

    expect(await failureType(points.topUpPoints({ topUpId: randomUUID(), userId, amountPoints: 1 }))).toBe('BalanceLimitExceeded');

    expect(await balanceOf(orm, userId)).toBe(CAP);
    expect(await ledgerOf(orm, userId)).toEqual(ledger);
  });

  it('still returns the result of a top-up already recorded when the balance is at the cap', async () => {
    const userId = await createUser(orm, CAP - 100);
    const topUpId = randomUUID();
    const first = await points.topUpPoints({ topUpId, userId, amountPoints: 100 });
    const retried = await points.topUpPoints({ topUpId, userId, amountPoints: 100 });
    expect(retried).toEqual(first);
  });

  it('lets exactly one of two racing top-ups through when both together exceed the cap', async () => {
    const userId = await createUser(orm, CAP - 15_000);
    const results = await Promise.all(
      [10_000, 10_000].map((amountPoints) => failureType(points.topUpPoints({ topUpId: randomUUID(), userId, amountPoints }))),
    );
    expect(results.sort((a, b) => String(a).localeCompare(String(b)))).toEqual(['BalanceLimitExceeded', undefined]);
    expect(await balanceOf(orm, userId)).toBe(CAP - 5_000);
  });

  it('never refuses a refund: it completes above the cap and past 2^31', async () => {
    const cap = INT32_MAX - 647;
    const capped = createPointsActivities({ orm, balanceLimitPoints: cap });
    const userId = await createUser(orm, cap);
    const sagaId = orderWorkflowId(randomUUID());
    await capped.payWithPoints({ userId, amountPoints: 1_000_000, sagaId, idempotencyKey: stepKey(sagaId, 'pay') });
    // Top-ups since the payment filled the balance up to the cap again.
    await capped.topUpPoints({ topUpId: randomUUID(), userId, amountPoints: 1_000_000 });

    const refund = await capped.refundPoints({ userId, sagaId, idempotencyKey: stepKey(sagaId, 'refund') });

    expect(refund).toMatchObject({ amountPoints: 1_000_000, balancePoints: cap + 1_000_000 });
    expect(await balanceOf(orm, userId)).toBeGreaterThan(INT32_MAX);
  });
});

describe('the order total limit in createOrder', () => {
  const LIMIT = 5_000_000_000;
  let orders: ReturnType<typeof createOrderActivities>;
  beforeAll(() => {
    orders = createOrderActivities({ orm, orderTotalLimitWon: LIMIT });
  });

  async function order(priceWon: number, quantity: number) {
    const productId = await createProduct(orm, 10, priceWon);
    const userId = await createUser(orm, 0);
    const orderId = randomUUID();
    const input = { orderId, userId, workflowId: orderWorkflowId(orderId), requestHash: 'h', items: [{ productId, quantity }] };
    return { orderId, input };
  }

  it('records a total past 2^31 exactly when it is within the limit', async () => {
    const { orderId, input } = await order(1_500_000_000, 2);
    const created = await orders.createOrder(input);
    expect(created).toMatchObject({ status: 'PENDING', totalWon: 3_000_000_000, lines: [{ quantity: 2, unitPriceWon: 1_500_000_000 }] });
    const [row] = await orm.em.fork().execute<{ total_won: unknown }[]>('select total_won from orders where id = ?', [orderId]);
    expect(row!.total_won).toBe(3_000_000_000);
  });

  it('refuses a total above the limit with OrderTooLarge and writes nothing', async () => {
    const { orderId, input } = await order(1_000_000_001, 5);
    expect(await failureType(orders.createOrder(input))).toBe('OrderTooLarge');
    expect(await orm.em.fork().execute('select id from orders where id = ?', [orderId])).toEqual([]);
  });
});

/**
 * The money limits through the HTTP API and the sagas (issue 12, finding 1), on a stack
 * whose caps are raised past 2^31 by config: a top-up over the balance cap is answered
 * 422 `BalanceLimitExceeded` at once and changes nothing; of two racing top-ups that only
 * together exceed the cap exactly one passes (the activity's check under the row lock,
 * answered 422 from the failed workflow, never a 500 or a hang); balances and order
 * totals past 2^31 work end to end; an order over ORDER_TOTAL_LIMIT_WON is refused before
 * anything starts. The activities alone: money-limits.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { topUpWorkflowId } from '../../common/ids.ts';
import { topUpIdFor } from '../../api/idempotency.ts';
import { balanceOf, createProduct, createUser, ledgerOf } from '../helpers/db.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';

/** 2^31 - 1: the largest value of the 32-bit columns money used to live in. */
const INT32_MAX = 2_147_483_647;
const CAP = 5_000_000_000;
const ORDER_LIMIT = 3_000_000_000;

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ env: { POINTS_BALANCE_LIMIT: String(CAP), ORDER_TOTAL_LIMIT_WON: String(ORDER_LIMIT) } });
});

afterAll(async () => {
  await closeStack(stack);
});

function topUp(userId: number, amount: number, key: string = randomUUID()) {
  return callApi(stack, 'POST', `/users/${userId}/points/top-ups`, { amount }, { 'Idempotency-Key': key });
}

describe('the balance cap', () => {
  it('tops up to the cap, then refuses a top-up over it with 422 at once and changes nothing', async () => {
    const userId = await createUser(stack.orm, CAP - 10_000_000);
    const key = randomUUID();
    const toCap = await topUp(userId, 10_000_000, key);
    expect([toCap.status, toCap.body.balancePoints]).toEqual([201, CAP]);
    const ledger = await ledgerOf(stack.orm, userId);

    const started = Date.now();
    const overKey = randomUUID();
    const over = await topUp(userId, 1, overKey);
    expect(Date.now() - started).toBeLessThan(stack.config.api.orderOutcomeWaitMs);
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ code: 'BalanceLimitExceeded', userId, balancePoints: CAP, amountPoints: 1, balanceLimitPoints: CAP });
    expect(await balanceOf(stack.orm, userId)).toBe(CAP);
    expect(await ledgerOf(stack.orm, userId)).toEqual(ledger);
    // Refused before anything started: no top-up workflow exists for that key.
    const refusedWorkflow = stack.env.client.workflow.getHandle(topUpWorkflowId(topUpIdFor(stack.config.idempotency.secret, userId, overKey)));
    await expect(refusedWorkflow.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // The top-up that reached the cap, asked again with its key, still gets its result.
    const again = await topUp(userId, 10_000_000, key);
    expect([again.status, again.body.balancePoints]).toEqual([201, CAP]);
  });

  it('lets exactly one of two concurrent top-ups through when only both together exceed the cap', async () => {
    const userId = await createUser(stack.orm, CAP - 15_000_000);
    const answers = await Promise.all([topUp(userId, 10_000_000), topUp(userId, 10_000_000)]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 422]);
    expect(answers.find((a) => a.status === 422)!.body).toMatchObject({ code: 'BalanceLimitExceeded', balanceLimitPoints: CAP });
    expect(await balanceOf(stack.orm, userId)).toBe(CAP - 5_000_000);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind === 'TOP_UP')).toHaveLength(2);
  });
});

describe('amounts past 2^31', () => {
  it('tops a balance up to 3,000,000,000 and pays an order of 2,400,000,000 won', async () => {
    const userId = await createUser(stack.orm, INT32_MAX - 7_483_647);
    let balance = INT32_MAX - 7_483_647;
    while (balance < 3_000_000_000) {
      const answer = await topUp(userId, 10_000_000);
      expect(answer.status).toBe(201);
      balance += 10_000_000;
      expect(answer.body.balancePoints).toBe(balance);
      if (balance === 2_160_000_000) balance = await jumpTo(userId, 2_990_000_000);
    }
    const points = await callApi(stack, 'GET', `/users/${userId}/points`);
    expect(points.body.balancePoints).toBe(3_000_000_000);

    const productId = await createProduct(stack.orm, 5, 1_200_000_000);
    const order = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 2 }] });
    expect([order.status, order.body.status, order.body.totalWon]).toEqual([201, 'CONFIRMED', 2_400_000_000]);
    expect(order.body.lines).toEqual([{ productId, quantity: 2, unitPriceWon: 1_200_000_000, lineTotalWon: 2_400_000_000 }]);
    expect(await balanceOf(stack.orm, userId)).toBe(600_000_000);
    const ledger = await callApi(stack, 'GET', `/users/${userId}/points/ledger?limit=1`);
    expect(ledger.body.items[0]).toMatchObject({ kind: 'PAYMENT', amountPoints: 2_400_000_000 });
  });

  it('refuses an order over ORDER_TOTAL_LIMIT_WON with 422 before anything starts', async () => {
    const userId = await createUser(stack.orm, CAP);
    const productId = await createProduct(stack.orm, 5, 1_000_000_001);
    const answer = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 3 }] }, { 'Idempotency-Key': randomUUID() });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'OrderTooLarge', totalWon: 3_000_000_003, orderTotalLimitWon: ORDER_LIMIT });
    expect(await stack.orm.em.fork().execute('select id from orders where user_id = ?', [userId])).toEqual([]);
  });
});

/** Credits the difference up to `target` in one ledger row (a fixture top-up), so the test need not run 80 top-ups. */
async function jumpTo(userId: number, target: number): Promise<number> {
  await stack.orm.em.fork().transactional(async (em) => {
    const [row] = await em.execute<{ balance_points: number }[]>('select balance_points from point_accounts where user_id = ? for update', [userId]);
    const delta = target - row!.balance_points;
    await em.execute('update point_accounts set balance_points = ? where user_id = ?', [target, userId]);
    await em.execute(
      `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
       values (?, 'TOP_UP', ?, ?, ?, now())`,
      [userId, delta, `fixture-${randomUUID()}`, `fixture-${randomUUID()}`],
    );
  });
  return target;
}

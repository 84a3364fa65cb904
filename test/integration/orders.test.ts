/**
 * Order checkout end to end over HTTP: Koa API -> Temporal (real dev server) -> worker
 * -> PostgreSQL, with the mock data platform as a real HTTP server.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { orderWorkflowId } from '../../common/ids.ts';
import { balanceOf, createProduct, createUser, ledgerOf, stockOf } from '../helpers/db.ts';
import { callApi, closeStack, startStack, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(() => closeStack(stack));

afterEach(() => {
  stack.dataPlatform.updateSettings({ down: false, latencyMs: 0, failureRate: 0, failAfterRecord: 0 });
});

/** Waits for the whole saga (it ends at its pivot: the relay delivers the event). */
function sagaResult(orderId: string): Promise<unknown> {
  return stack.env.client.workflow.getHandle(orderWorkflowId(orderId)).result();
}

function eventsOf(orderId: string) {
  return stack.dataPlatform.events().filter((e) => e.eventId === `${orderWorkflowId(orderId)}:confirmed`);
}

/** Waits until the data platform has received the order's event (the relay delivers it). */
function eventDelivered(orderId: string): Promise<void> {
  return pollUntil(`the event of order ${orderId} at the data platform`, () => eventsOf(orderId).length > 0);
}

async function reservationStatuses(orderId: string): Promise<string[]> {
  const rows = await stack.orm.em.fork().execute<{ status: string }[]>(
    'select status from stock_reservations where order_id = ? order by product_id',
    [orderId],
  );
  return rows.map((r) => r.status);
}

describe('POST /orders', () => {
  it('confirms an order: stock and points go down once, one ledger row, event delivered once', async () => {
    const productA = await createProduct(stack.orm, 10, 1_000);
    const productB = await createProduct(stack.orm, 5, 2_500);
    const userId = await createUser(stack.orm, 100_000);

    const res = await callApi(stack, 'POST', '/orders', {
      userId,
      items: [
        { productId: productB, quantity: 2 },
        { productId: productA, quantity: 3 },
      ],
    });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CONFIRMED', totalWon: 8_000, userId });
    expect(res.headers.get('location')).toBe(`/orders/${res.body.orderId}`);
    expect(await stockOf(stack.orm, productA)).toBe(7);
    expect(await stockOf(stack.orm, productB)).toBe(3);
    expect(await balanceOf(stack.orm, userId)).toBe(92_000);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind !== 'TOP_UP')).toEqual([
      { kind: 'PAYMENT', amountPoints: 8_000, reference: orderWorkflowId(res.body.orderId) },
    ]);
    expect(await reservationStatuses(res.body.orderId)).toEqual(['COMMITTED', 'COMMITTED']);

    await sagaResult(res.body.orderId);
    await eventDelivered(res.body.orderId);
    const events = eventsOf(res.body.orderId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'order.confirmed', attempts: 1, payload: { orderId: res.body.orderId, totalWon: 8_000 } });

    const eventId = `${orderWorkflowId(res.body.orderId)}:confirmed`;
    await pollUntil('the outbox row DELIVERED', async () => (await deliveryStatus(eventId)) === 'DELIVERED');
    const view = await callApi(stack, 'GET', `/orders/${res.body.orderId}`);
    expect(view.status).toBe(200);
    expect(view.body.saga).toMatchObject({ status: 'CONFIRMED', notification: 'OUTBOX', compensations: [] });
    expect(view.body.event).toMatchObject({ eventId, status: 'DELIVERED', attempts: 1, lastError: null });
    expect(Date.parse(view.body.event.deliveredAt)).not.toBeNaN();
    expect(view.body.saga.steps.map((s: { name: string }) => s.name)).toEqual([
      'createOrder',
      'reserveStock',
      'payWithPoints',
      'confirmOrder',
    ]);
  });

  it('cancels an order that is out of stock: no points charged, nothing left reserved', async () => {
    const plenty = await createProduct(stack.orm, 10, 1_000);
    const scarce = await createProduct(stack.orm, 2, 1_000);
    const userId = await createUser(stack.orm, 100_000);

    const res = await callApi(stack, 'POST', '/orders', {
      userId,
      items: [
        { productId: plenty, quantity: 1 },
        { productId: scarce, quantity: 3 },
      ],
    });

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'OutOfStock' });
    const orderId = res.body.order.orderId;
    expect(res.body.order).toMatchObject({ status: 'CANCELLED', reason: 'OutOfStock' });
    expect(await stockOf(stack.orm, plenty)).toBe(10);
    expect(await stockOf(stack.orm, scarce)).toBe(2);
    expect(await balanceOf(stack.orm, userId)).toBe(100_000);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind === 'PAYMENT')).toEqual([]);
    expect(await reservationStatuses(orderId)).toEqual(['RELEASED', 'RELEASED']);
    await sagaResult(orderId);
    expect(eventsOf(orderId)).toEqual([]);
  });

  it('cancels an order on insufficient points and restores the stock exactly', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const userId = await createUser(stack.orm, 2_999);

    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 3 }] });

    expect(res.status).toBe(422);
    expect(res.body.code).toBe('InsufficientPoints');
    const order = res.body.order;
    expect(order).toMatchObject({ status: 'CANCELLED', reason: 'InsufficientPoints', totalWon: 3_000 });
    expect(await stockOf(stack.orm, productId)).toBe(10);
    expect(await balanceOf(stack.orm, userId)).toBe(2_999);
    expect(await reservationStatuses(order.orderId)).toEqual(['RELEASED']);
    const view = await callApi(stack, 'GET', `/orders/${order.orderId}`);
    expect(view.body.saga.compensations.map((c: { name: string; state: string }) => [c.name, c.state])).toEqual([
      ['refundPoints', 'completed'],
      ['releaseStock', 'completed'],
    ]);
  });

  it('runs one saga for a repeated Idempotency-Key, also when the two requests race', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const userId = await createUser(stack.orm, 100_000);
    const key = `checkout-${randomUUID()}`;
    const body = { userId, items: [{ productId, quantity: 2 }] };

    const [first, second] = await Promise.all([
      callApi(stack, 'POST', '/orders', body, { 'idempotency-key': key }),
      callApi(stack, 'POST', '/orders', body, { 'idempotency-key': key }),
    ]);
    const third = await callApi(stack, 'POST', '/orders', body, { 'idempotency-key': key });

    expect([first.status, second.status, third.status]).toEqual([201, 201, 201]);
    expect(second.body.orderId).toBe(first.body.orderId);
    expect(third.body.orderId).toBe(first.body.orderId);
    expect(await stockOf(stack.orm, productId)).toBe(8);
    expect(await balanceOf(stack.orm, userId)).toBe(98_000);
    expect((await ledgerOf(stack.orm, userId)).filter((e) => e.kind === 'PAYMENT')).toHaveLength(1);

    const reused = await callApi(stack, 'POST', '/orders', { ...body, items: [{ productId, quantity: 1 }] }, { 'idempotency-key': key });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IdempotencyKeyReused');
    expect(await stockOf(stack.orm, productId)).toBe(8);
  });

  it('confirms at once while the data platform is down, and delivers the event exactly once after recovery', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const userId = await createUser(stack.orm, 100_000);
    stack.dataPlatform.updateSettings({ down: true });

    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('CONFIRMED');

    const eventId = `${orderWorkflowId(res.body.orderId)}:confirmed`;
    await pollUntil('two delivery attempts', async () => (await deliveryAttempts(eventId)) >= 2);
    expect(eventsOf(res.body.orderId)).toEqual([]);
    const during = await callApi(stack, 'GET', `/orders/${res.body.orderId}`);
    expect(during.body).toMatchObject({ status: 'CONFIRMED' });
    expect(during.body.saga.notification).toBe('OUTBOX');
    expect(during.body.event).toMatchObject({ eventId, status: 'PENDING', deliveredAt: null });
    expect(during.body.event.attempts).toBeGreaterThanOrEqual(2);
    expect(during.body.event.lastError).toEqual(expect.any(String));

    stack.dataPlatform.updateSettings({ down: false });
    await eventDelivered(res.body.orderId);
    await pollUntil('the outbox row DELIVERED', async () => (await deliveryStatus(eventId)) === 'DELIVERED');
    expect(eventsOf(res.body.orderId)).toHaveLength(1);
    expect(await balanceOf(stack.orm, userId)).toBe(99_000);
  });

  it('answers without waiting for a slow data platform (3 s)', async () => {
    const productId = await createProduct(stack.orm, 10, 1_000);
    const userId = await createUser(stack.orm, 100_000);
    stack.dataPlatform.updateSettings({ latencyMs: 3_000 });

    const res = await callApi(stack, 'POST', '/orders', { userId, items: [{ productId, quantity: 1 }] });

    expect(res.status).toBe(201);
    expect(res.body.status).toBe('CONFIRMED');
    // The event can only be recorded after the 3 s latency: the answer came before it.
    expect(eventsOf(res.body.orderId)).toEqual([]);
    await eventDelivered(res.body.orderId);
    expect(eventsOf(res.body.orderId)).toHaveLength(1);
  });
});

async function deliveryAttempts(eventId: string): Promise<number> {
  const rows = await stack.orm.em.fork().execute<{ attempts: number }[]>(
    'select attempts from data_platform_deliveries where event_id = ?',
    [eventId],
  );
  return rows[0]?.attempts ?? 0;
}

async function deliveryStatus(eventId: string): Promise<string | undefined> {
  const rows = await stack.orm.em.fork().execute<{ status: string }[]>('select status from data_platform_deliveries where event_id = ?', [eventId]);
  return rows[0]?.status;
}

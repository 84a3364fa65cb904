/**
 * Bad input is refused with a clear 4xx before anything changes: the API on the test
 * database, with a Temporal client whose every workflow call is recorded and refused
 * (on a lazy connection to an address where nothing listens). Each answer must have the
 * error shape and a stable code; afterwards no workflow call was made and the database
 * is unchanged.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { expectRefusedBy, problemExtensions, sendCall, withToken, type Call } from '../helpers/http.ts';
import { tokenFor } from '../helpers/auth.ts';
import { Order, PointLedgerEntry } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import { balanceOf, createProduct, createUser, stockOf } from '../helpers/db.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';

const BODY_LIMIT_BYTES = 4096;
/** An id no fixture reaches (ids are serial and tests create few rows). */
const ABSENT_ID = 2_147_483_000;

let api: TestApi;
let orm: Orm;
let productA: number;
let productB: number;
let userId: number;
/** A token of `userId`, sent with every request. */
let token: string;
const temporalCalls: string[] = [];
let before: Snapshot;


interface Snapshot {
  orders: number;
  ledgerRows: number;
  stockA: number;
  stockB: number;
  balance: number;
}

async function snapshot(): Promise<Snapshot> {
  const em = orm.em.fork();
  return {
    orders: await em.count(Order, {}),
    ledgerRows: await em.count(PointLedgerEntry, {}),
    stockA: await stockOf(orm, productA),
    stockB: await stockOf(orm, productB),
    balance: await balanceOf(orm, userId),
  };
}

beforeAll(async () => {
  api = await startTestApi({ env: { API_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) }, refusedCalls: temporalCalls });
  orm = api.orm;
  productA = await createProduct(orm, 10, 1_000);
  productB = await createProduct(orm, 5, 2_500);
  userId = await createUser(orm, 50_000);
  token = await tokenFor(userId);
  before = await snapshot();
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

const send = (call: Call) => sendCall(api.url, withToken(token, call));
const expectRefused = (call: Call, status: number, code: string, path?: string) => expectRefusedBy(api.url, withToken(token, call), status, code, path);

function order(items: unknown, extra: Record<string, unknown> = {}): Call {
  return { path: '/orders', json: { userId, items, ...extra } };
}

describe('POST /orders refuses bad input before starting anything', () => {
  const line = (quantity: unknown, productId: unknown = productA) => [{ productId, quantity }];

  it.each([
    ['missing items', () => ({ path: '/orders', json: { userId } }), 'items'],
    ['an empty object', () => ({ path: '/orders', json: {} }), 'items'],
    ['a JSON array body', () => ({ path: '/orders', json: [] }), ''],
    ['a zero quantity', () => order(line(0)), 'items.0.quantity'],
    ['a negative quantity', () => order(line(-2)), 'items.0.quantity'],
    ['a quantity of 1e12', () => order(line(1e12)), 'items.0.quantity'],
    ['a quantity of 2**53', () => order(line(2 ** 53)), 'items.0.quantity'],
    ['a quantity of 1001', () => order(line(1001)), 'items.0.quantity'],
    ['a fractional quantity', () => order(line(1.5)), 'items.0.quantity'],
    ['a string quantity', () => order(line('2')), 'items.0.quantity'],
    ['a missing quantity', () => order([{ productId: productA }]), 'items.0.quantity'],
    ['a string userId', () => ({ path: '/orders', json: { userId: String(userId), items: line(1) } }), 'userId'],
    ['a zero userId', () => ({ path: '/orders', json: { userId: 0, items: line(1) } }), 'userId'],
    ['a userId past 2^31-1', () => ({ path: '/orders', json: { userId: 2 ** 31, items: line(1) } }), 'userId'],
    ['a negative productId', () => order(line(1, -3)), 'items.0.productId'],
    ['items that are not an array', () => order({ productId: productA, quantity: 1 }), 'items'],
    ['an unknown top-level field', () => order(line(1), { couponCode: 'FREE' }), 'couponCode'],
    ['an unknown field in a line', () => order([{ productId: productA, quantity: 1, priceWon: 1 }]), 'items.0.priceWon'],
    ['no items', () => order([]), 'items'],
    ['51 items', () => order(Array.from({ length: 51 }, (_, i) => ({ productId: i + 1, quantity: 1 }))), 'items'],
    [
      'a duplicate productId',
      () => order([{ productId: productA, quantity: 1 }, { productId: productB, quantity: 1 }, { productId: productA, quantity: 2 }]),
      'items.2.productId',
    ],
  ])('400 ValidationFailed for %s', async (_name, call, path) => {
    await expectRefused(call(), 400, 'ValidationFailed', path);
  });

  it('422 UnknownProduct naming the missing product ids', async () => {
    const error = await expectRefused(order([{ productId: productA, quantity: 1 }, { productId: ABSENT_ID, quantity: 1 }]), 422, 'UnknownProduct');
    expect(problemExtensions(error)).toEqual({ productIds: [ABSENT_ID] });
  });

  it('403 Forbidden for a userId that is not the caller\'s', async () => {
    await expectRefused({ path: '/orders', json: { userId: ABSENT_ID, items: [{ productId: productA, quantity: 1 }] } }, 403, 'Forbidden');
  });

  it('413 PayloadTooLarge past the body limit', async () => {
    await expectRefused(order(line(1), { padding: 'x'.repeat(BODY_LIMIT_BYTES) }), 413, 'PayloadTooLarge');
  });

  it.each([
    ['truncated JSON', '{"userId": 1, "items": ['],
    ['a bare string', '"hello"'],
    ['null', 'null'],
    ['trailing garbage', '{"userId": 1} x'],
  ])('400 MalformedJson for %s', async (_name, raw) => {
    await expectRefused({ path: '/orders', raw }, 400, 'MalformedJson');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('415 UnsupportedMediaType for %s', async (contentType) => {
    await expectRefused({ path: '/orders', raw: `userId=${userId}`, contentType }, 415, 'UnsupportedMediaType');
  });

  it.each(['compress', 'x-unknown'])('415 UnsupportedMediaType for Content-Encoding %s', async (encoding) => {
    const call = { ...order([{ productId: productA, quantity: 1 }]), headers: { 'Content-Encoding': encoding } };
    await expectRefused(call, 415, 'UnsupportedMediaType');
  });

  it.each([
    ['with a space', 'my key'],
    ['too long', 'k'.repeat(201)],
    ['empty', ''],
    ['with a slash', 'a/b'],
  ])('400 ValidationFailed for an Idempotency-Key %s', async (_name, key) => {
    const call = { ...order([{ productId: productA, quantity: 1 }]), headers: { 'Idempotency-Key': key } };
    await expectRefused(call, 400, 'ValidationFailed', 'Idempotency-Key');
  });
});

describe('bad ids, queries and methods', () => {
  it.each([
    ['/orders/not-a-uuid'],
    ['/orders/123'],
    ['/products/-1'],
    ['/products/0'],
    ['/products/1.5'],
    ['/products/007'],
    ['/products/99999999999'],
    ['/users/abc/points'],
    ['/users/2147483648/points'],
  ])('400 ValidationFailed for GET %s', async (path) => {
    await expectRefused({ path }, 400, 'ValidationFailed', 'id');
  });

  it.each([
    ['/products?limit=0', 'limit'],
    ['/products?limit=501', 'limit'],
    ['/products?limit=abc', 'limit'],
    ['/products?offset=-1', 'offset'],
    ['/products?limit=1&limit=2', 'limit'],
    ['/products?sort=name', 'sort'],
  ])('400 ValidationFailed for GET %s', async (path, issuePath) => {
    await expectRefused({ path }, 400, 'ValidationFailed', issuePath);
  });

  it('404 NotFound for an unknown route, 405 MethodNotAllowed with Allow for a wrong method', async () => {
    await expectRefused({ path: '/nothing-here' }, 404, 'NotFound');
    await expectRefused({ path: '/orders', json: {}, method: 'PUT' }, 405, 'MethodNotAllowed');
    const res = await send({ path: '/products', method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
  });
});

describe('POST /users/:id/points/top-ups refuses bad input', () => {
  const topUp = (json: unknown, id: number | string = userId): Call => ({ path: `/users/${id}/points/top-ups`, json });

  it.each([
    ['zero', 0],
    ['negative', -100],
    ['fractional', 10.5],
    ['huge', 1e12],
    ['2**53', 2 ** 53],
    ['a string', '100'],
    ['null', null],
  ])('400 ValidationFailed for an amount that is %s', async (_name, amount) => {
    await expectRefused(topUp({ amount }), 400, 'ValidationFailed', 'amount');
  });

  it('400 ValidationFailed for a missing amount, an unknown field, a bad user id', async () => {
    await expectRefused(topUp({}), 400, 'ValidationFailed', 'amount');
    await expectRefused(topUp({ amount: 10, currency: 'KRW' }), 400, 'ValidationFailed', 'currency');
    await expectRefused(topUp({ amount: 10 }, 'abc'), 400, 'ValidationFailed', 'id');
  });

  it('404 NotFound for a user without a point account', async () => {
    await expectRefused(topUp({ amount: 10 }, ABSENT_ID), 404, 'NotFound');
  });

  it('415 and 400 for non-JSON and malformed bodies', async () => {
    await expectRefused({ path: `/users/${userId}/points/top-ups`, raw: 'amount=5', contentType: 'text/plain' }, 415, 'UnsupportedMediaType');
    await expectRefused({ path: `/users/${userId}/points/top-ups`, raw: '{"amount":' }, 400, 'MalformedJson');
  });
});

describe('after all refused requests', () => {
  it('made no Temporal call and changed nothing in the database', async () => {
    expect(temporalCalls).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});

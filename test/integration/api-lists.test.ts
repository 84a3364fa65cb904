/**
 * The API's lists and their paging (api/pagination.ts) against PostgreSQL (test database):
 * `GET /products`, `GET /users/:id/points/ledger` and `GET /users/:id/orders` answer
 * `{ items, next }`; following `next` yields every item once, in order; `limit` and
 * `cursor` are validated. Every answer is checked against the OpenAPI document. No
 * Temporal server: the lists never reach it.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ledgerCursor } from '../../api/points/schemas.ts';
import { productCursor } from '../../api/products/schemas.ts';
import { orderWorkflowId } from '../../common/ids.ts';
import { PointAccount, PointLedgerEntry } from '../../db/entities/index.ts';
import type { Orm } from '../../db/orm.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createProduct, createUser } from '../helpers/db.ts';
import { authHeader, operatorToken } from '../helpers/auth.ts';
import { expectProblem } from '../helpers/http.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';

const ABSENT_ID = 2_147_483_000;

let api: TestApi;
let orm: Orm;

beforeAll(async () => {
  // The lists read PostgreSQL only: a Temporal connection that is never used.
  api = await startTestApi();
  orm = api.orm;
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

async function get(path: string): Promise<{ status: number; headers: Headers; body: any }> {
  // An operator reads every user's resources; test/integration/auth.test.ts checks who else may.
  const res = await fetch(new URL(path, api.url), { headers: authHeader(await operatorToken()) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Follows `next` from `first` to the last page; returns every page's items and the links followed. */
async function walk<Item>(first: string): Promise<{ items: Item[]; pages: Item[][]; links: string[] }> {
  const pages: Item[][] = [];
  const links = [first];
  for (let path: string | null = first; path !== null; ) {
    const page = await get(path);
    expect(page.status).toBe(200);
    expect(Object.keys(page.body).sort()).toEqual(['items', 'next']);
    pages.push(page.body.items);
    path = page.body.next;
    if (path !== null) links.push(path);
    expect(pages.length).toBeLessThan(10_000);
  }
  return { items: pages.flat(), pages, links };
}

/** Expects a 400 ValidationFailed problem with an error at `field`. */
async function expectInvalid(path: string, field: string): Promise<void> {
  const res = await get(path);
  expectProblem(res, 400, 'ValidationFailed', path.split('?')[0]!);
  expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
}

/** Adds `count` TOP_UP rows of 1, 2, ... points to `userId`'s ledger (balance kept equal); returns their references, oldest first. */
async function addLedgerRows(userId: number, count: number): Promise<string[]> {
  const em = orm.em.fork();
  const account = await em.findOneOrFail(PointAccount, { user: userId });
  const references = Array.from({ length: count }, (_, i) => `api-lists-${userId}-${i}`);
  references.forEach((reference, i) =>
    em.create(PointLedgerEntry, {
      account,
      kind: 'TOP_UP',
      amountPoints: i + 1,
      reference,
      idempotencyKey: `api-lists-${randomUUID()}`,
      createdAt: new Date(),
    }),
  );
  account.balancePoints += (count * (count + 1)) / 2;
  await em.flush();
  return references;
}

/**
 * Inserts an order row of `userId` created at `createdAt` (a PostgreSQL timestamptz
 * literal, microseconds allowed), CANCELLED without effects so that the invariants hold;
 * returns its id.
 */
async function insertOrder(userId: number, createdAt: string, id: string = randomUUID()): Promise<string> {
  await orm.em.fork().execute(
    `insert into orders (id, user_id, status, total_won, cancellation_reason, workflow_id, request_hash, created_at, updated_at)
     values (?, ?, 'CANCELLED', 1000, 'OutOfStock', ?, ?, ?::timestamptz, now())`,
    [id, userId, orderWorkflowId(id), '0'.repeat(64), createdAt],
  );
  return id;
}

describe('GET /products', () => {
  it('pages through the whole catalog by id, each product once, with the same limit in every next link', async () => {
    const created = [await createProduct(orm, 1), await createProduct(orm, 2), await createProduct(orm, 3)];
    const { items, pages, links } = await walk<{ id: number }>('/products?limit=100');
    const ids = items.map((p) => p.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(ids).toEqual(expect.arrayContaining(created));
    expect(pages.slice(0, -1).every((page) => page.length === 100)).toBe(true);
    for (const link of links.slice(1)) expect(link).toMatch(/^\/products\?limit=100&cursor=[A-Za-z0-9_-]+$/);
  });

  it('pages two at a time from a cursor, and the last page has next null', async () => {
    const created = [await createProduct(orm, 1), await createProduct(orm, 2), await createProduct(orm, 3), await createProduct(orm, 4), await createProduct(orm, 5)];
    // The cursor of a page that ends just before the first product of this test.
    const start = `/products?limit=2&cursor=${productCursor.encode({ id: created[0]! - 1 })}`;
    const { items, pages } = await walk<{ id: number }>(start);
    const ids = items.map((p) => p.id);
    expect(ids.slice(0, 5)).toEqual(created);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(pages.slice(0, -1).every((page) => page.length === 2)).toBe(true);
  });

  it('shows 20 products by default', async () => {
    for (let i = 0; i < 21; i++) await createProduct(orm, 1);
    const page = await get('/products');
    expect(page.body.items).toHaveLength(20);
    expect(page.body.next).toMatch(/^\/products\?limit=20&cursor=/);
  });

  it('accepts a limit from 1 to 100 and refuses others', async () => {
    expect((await get('/products?limit=1')).body.items).toHaveLength(1);
    expect((await get('/products?limit=100')).status).toBe(200);
    for (const limit of ['0', '101', '-1', '1.5', 'abc', '', '01', '1e2', ' 5']) {
      await expectInvalid(`/products?limit=${encodeURIComponent(limit)}`, 'limit');
    }
    await expectInvalid('/products?limit=1&limit=2', 'limit');
  });

  it('refuses a cursor it did not write: malformed, of another list, or altered', async () => {
    const good = productCursor.encode({ id: 1 });
    const respelled = Buffer.from('["products", {"id": 1}]').toString('base64url');
    const altered = Buffer.from('["products",{"id":1,"x":2}]').toString('base64url');
    const outOfRange = Buffer.from('["products",{"id":-5}]').toString('base64url');
    const notJson = Buffer.from('not json').toString('base64url');
    for (const cursor of ['', '!!!', `${good}=`, 'x'.repeat(600), respelled, altered, outOfRange, notJson, ledgerCursor.encode({ id: 1 })]) {
      await expectInvalid(`/products?cursor=${encodeURIComponent(cursor)}`, 'cursor');
    }
    expect((await get(`/products?cursor=${good}`)).status).toBe(200);
  });

  it('refuses unknown query parameters, offset included', async () => {
    await expectInvalid('/products?offset=0', 'offset');
  });

  it('answers an empty last page after the highest id', async () => {
    const page = await get(`/products?cursor=${productCursor.encode({ id: 2_147_483_647 })}`);
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ items: [], next: null });
  });
});

describe('GET /users/:id/points/ledger', () => {
  it('pages through every movement newest first, each once', async () => {
    const userId = await createUser(orm, 0);
    const references = await addLedgerRows(userId, 45);

    const { items, pages } = await walk<{ kind: string; amountPoints: number; reference: string; createdAt: string }>(
      `/users/${userId}/points/ledger`,
    );

    expect(pages.map((page) => page.length)).toEqual([20, 20, 5]);
    expect(items.map((e) => e.reference)).toEqual([...references].reverse());
    expect(items[0]).toEqual({ kind: 'TOP_UP', amountPoints: 45, reference: references.at(-1), createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
  });

  it('ends with next null when the last page is exactly full', async () => {
    const userId = await createUser(orm, 0);
    await addLedgerRows(userId, 4);
    const { pages } = await walk(`/users/${userId}/points/ledger?limit=2`);
    expect(pages.map((page) => page.length)).toEqual([2, 2]);
  });

  it('answers an empty list for an account without movements', async () => {
    const userId = await createUser(orm, 0);
    expect((await get(`/users/${userId}/points/ledger`)).body).toEqual({ items: [], next: null });
  });

  it('answers 404 NotFound for a user without a point account, and 400 for a bad limit or cursor', async () => {
    const res = await get(`/users/${ABSENT_ID}/points/ledger`);
    expectProblem(res, 404, 'NotFound', `/users/${ABSENT_ID}/points/ledger`);
    const userId = await createUser(orm, 0);
    await expectInvalid(`/users/${userId}/points/ledger?limit=101`, 'limit');
    await expectInvalid(`/users/${userId}/points/ledger?cursor=${productCursor.encode({ id: 1 })}`, 'cursor');
  });
});

describe('GET /users/:id/orders', () => {
  it('lists only the user\'s orders, newest first by creation time then id, each once across pages', async () => {
    const userId = await createUser(orm, 0);
    const otherId = await createUser(orm, 0);
    const prefix = randomUUID().slice(0, 8);
    const [low, high] = [`${prefix}-0000-4000-8000-000000000001`, `${prefix}-ffff-4fff-bfff-ffffffffffff`];
    // Two orders a microsecond apart (the key keeps the column's precision) and two at the same instant (ordered by id).
    const oldest = await insertOrder(userId, '2026-01-01T10:00:00.000001Z');
    const microLater = await insertOrder(userId, '2026-01-01T10:00:00.000002Z');
    const tiedLow = await insertOrder(userId, '2026-02-01T10:00:00.5Z', low);
    const tiedHigh = await insertOrder(userId, '2026-02-01T10:00:00.5Z', high);
    const newest = await insertOrder(userId, '2026-03-01T10:00:00Z');
    await insertOrder(otherId, '2026-02-15T10:00:00Z');

    for (const limit of [1, 2, 3, 20]) {
      const { items } = await walk<{ orderId: string }>(`/users/${userId}/orders?limit=${limit}`);
      expect(items.map((o) => o.orderId)).toEqual([newest, tiedHigh, tiedLow, microLater, oldest]);
    }
    const first = await get(`/users/${userId}/orders?limit=1`);
    expect(first.body).toEqual({
      items: [{ orderId: newest, status: 'CANCELLED', totalWon: 1000, subtotalWon: 1000, discountWon: 0, couponId: null, createdAt: '2026-03-01T10:00:00.000Z', links: { self: `/orders/${newest}` } }],
      next: expect.stringMatching(new RegExp(`^/users/${userId}/orders\\?limit=1&cursor=[A-Za-z0-9_-]+$`)),
    });
  });

  it('answers an empty list for a user without orders', async () => {
    const userId = await createUser(orm, 0);
    expect((await get(`/users/${userId}/orders`)).body).toEqual({ items: [], next: null });
  });

  it('answers 404 NotFound for an unknown user, and 400 for a bad id, limit or cursor', async () => {
    expectProblem(await get(`/users/${ABSENT_ID}/orders`), 404, 'NotFound', `/users/${ABSENT_ID}/orders`);
    const userId = await createUser(orm, 0);
    await expectInvalid(`/users/0/orders`, 'id');
    await expectInvalid(`/users/${userId}/orders?limit=0`, 'limit');
    await expectInvalid(`/users/${userId}/orders?cursor=${ledgerCursor.encode({ id: 3 })}`, 'cursor');
  });
});

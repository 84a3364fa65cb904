/**
 * Test database helpers: an ORM on the test database and fixtures that create fresh,
 * uniquely named rows, so suites never depend on each other's data or order.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig, type AppConfig } from '../../config/index.ts';
import { openOrm, type Orm } from '../../db/orm.ts';
import { AppUser, PointAccount, PointLedgerEntry, Product } from '../../db/entities/index.ts';

/** The app config with the database pointed at the test database and quiet logs. */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  const base = loadConfig();
  return loadConfig({
    // Suites send many writes per user: the rate limit is off unless a suite turns it on.
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
    // Suites stop sagas at a step by holding row locks for as long as a loaded machine
    // needs to line everything up: the production bounds (10 s statement, 12 s query) would
    // cut those waits and change the scene. db-silent-connection.test.ts sets its own.
    DATABASE_STATEMENT_TIMEOUT_MS: '120000',
    DATABASE_QUERY_TIMEOUT_MS: '125000',
    // Suites hold many seats at once: no one waits in the queue unless a suite sets a cap.
    QUEUE_ACTIVE_LIMIT: '100000',
    ...overrides,
    NODE_ENV: 'test',
    LOG_LEVEL: overrides.LOG_LEVEL ?? 'warn',
    DATABASE_URL: base.database.testUrl,
    TEMPORAL_CLI_PATH: base.temporal.cliPath ?? '',
  });
}

/** Opens an ORM on the test database (migrated by test/global-setup.ts). */
export async function openTestOrm(config: AppConfig = testConfig()): Promise<Orm> {
  return openOrm({ ...config.database, poolMax: 10 });
}

/** Creates a product with `stock` units (also its initial stock) at `priceWon` won each; returns its id. */
export async function createProduct(orm: Orm, stock: number, priceWon = 1000): Promise<number> {
  const em = orm.em.fork();
  const product = em.create(Product, {
    sku: `test-${randomUUID()}`,
    name: 'Test product',
    priceWon,
    stock,
    initialStock: stock,
    createdAt: new Date(),
  });
  await em.flush();
  return product.id;
}

/**
 * Creates a user whose point account was topped up with `balancePoints` (one TOP_UP
 * ledger row, so point conservation holds); returns the user id.
 */
export async function createUser(orm: Orm, balancePoints: number): Promise<number> {
  const em = orm.em.fork();
  const user = em.create(AppUser, { name: `test-${randomUUID()}`, createdAt: new Date() });
  const account = em.create(PointAccount, { user, balancePoints, updatedAt: new Date() });
  if (balancePoints > 0) {
    em.create(PointLedgerEntry, {
      account,
      kind: 'TOP_UP',
      amountPoints: balancePoints,
      reference: `fixture-${randomUUID()}`,
      idempotencyKey: `fixture-${randomUUID()}`,
      createdAt: new Date(),
    });
  }
  await em.flush();
  return user.id;
}

/** Current stock of a product. */
export async function stockOf(orm: Orm, productId: number): Promise<number> {
  const product = await orm.em.fork().findOneOrFail(Product, productId);
  return product.stock;
}

/** Current point balance of a user. */
export async function balanceOf(orm: Orm, userId: number): Promise<number> {
  const account = await orm.em.fork().findOneOrFail(PointAccount, { user: userId });
  return account.balancePoints;
}

/** Ledger rows of a user, oldest first, as plain objects. */
export async function ledgerOf(orm: Orm, userId: number): Promise<{ kind: string; amountPoints: number; reference: string }[]> {
  const rows = await orm.em.fork().find(PointLedgerEntry, { account: userId }, { orderBy: { id: 'asc' } });
  return rows.map((r) => ({ kind: r.kind, amountPoints: r.amountPoints, reference: r.reference }));
}

/** Creates a concert performance with `seats` seats at `priceWon` won each; returns their ids. */
export async function createPerformance(orm: Orm, seats: number, priceWon = 10_000): Promise<{ performanceId: number; seatIds: number[] }> {
  return orm.em.fork().transactional(async (em) => {
    const [concert] = await em.execute<{ id: number }[]>(
      'insert into concerts (title, artist, venue) values (?, ?, ?) returning id',
      [`test-${randomUUID()}`, 'Test artist', 'Test venue'],
    );
    const [performance] = await em.execute<{ id: number }[]>(
      "insert into performances (concert_id, starts_at) values (?, now() + interval '30 days') returning id",
      [concert!.id],
    );
    const rows = await em.execute<{ id: number }[]>(
      `insert into seats (performance_id, section, number, price_won, status)
       select ?, 'A', n, ?, 'AVAILABLE' from generate_series(1, ?) as n returning id`,
      [performance!.id, priceWon, seats],
    );
    return { performanceId: performance!.id, seatIds: rows.map((r) => r.id).sort((a, b) => a - b) };
  });
}

/** Status and holder of each seat, by seat id order. */
export async function seatStates(orm: Orm, seatIds: number[]): Promise<{ id: number; status: string; reservationId: string | null }[]> {
  const rows = await orm.em
    .fork()
    .execute<{ id: number; status: string; reservation_id: string | null }[]>(
      'select id, status, reservation_id from seats where id in (?) order by id',
      [seatIds],
    );
  return rows.map((r) => ({ id: r.id, status: r.status, reservationId: r.reservation_id }));
}

/**
 * A database of the hostile-input suite's own: created and migrated for the run, dropped
 * after it. Other suites (and other runs on the same server) write to the shared test
 * database at the same time, so only a private one can show that *nothing* changed: its
 * snapshot fingerprints every row of every table.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { prepareDatabase, type Orm } from '../../../db/orm.ts';
import { createPerformance, createProduct, createUser } from '../../helpers/db.ts';
import { problemTypes } from './contract.ts';
import type { Fixtures } from './endpoint-kit.ts';
import type { World } from './oracle.ts';

/** `url` with its database name replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const next = new URL(url);
  next.pathname = `/${name}`;
  return next.toString();
}

/** Creates and migrates the database at `url` (dropping a leftover of the same name first). */
export async function createPrivateDatabase(url: string): Promise<Orm> {
  await dropDatabase(url);
  const { orm } = await prepareDatabase({ url, poolMax: 5 });
  return orm;
}

/** Drops the database at `url` if it exists, closing its other connections. */
export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`unexpected database name ${name}`);
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Ids from here up are no row of any table: the database is new and its ids serial. */
const ABSENT_FROM = 2_147_483_000;

/**
 * The fixtures: a user with 50,000 points, a user without a point account, two products,
 * a performance A with three AVAILABLE seats, one HELD by the user's PENDING reservation
 * (a row without a saga, held before the queue: it records no queue token) and one
 * RESERVED (by a reservation that does not exist), a performance B with two seats, and
 * their queue tokens ({@link createQueueTokens}).
 */
export async function createFixtures(orm: Orm): Promise<Omit<Fixtures, 'tokens'>> {
  const userId = await createUser(orm, 50_000);
  const [noAccount] = await orm.em
    .fork()
    .execute<{ id: number }[]>(`insert into app_users (name, created_at) values ('hostile-no-account', now()) returning id`);
  const productA = await createProduct(orm, 10, 1_000);
  const productB = await createProduct(orm, 5, 2_500);
  const a = await createPerformance(orm, 5, 10_000);
  const b = await createPerformance(orm, 2, 20_000);
  const reservationId = randomUUID();
  await orm.em.fork().execute(
    `insert into reservations (id, user_id, performance_id, seat_ids, status, total_won, hold_expires_at, workflow_id, request_hash, created_at, updated_at)
     values (?, ?, ?, ?, 'PENDING', 10000, now() + interval '1 hour', ?, 'hostile-fixture', now(), now())`,
    [reservationId, userId, a.performanceId, JSON.stringify([a.seatIds[3]]), `reservation-${reservationId}`],
  );
  await orm.em.fork().execute(
    `update seats set status = 'HELD', reservation_id = ?, hold_expires_at = now() + interval '1 hour' where id = ?`,
    [reservationId, a.seatIds[3]],
  );
  await orm.em.fork().execute(`update seats set status = 'RESERVED', reservation_id = gen_random_uuid() where id = ?`, [a.seatIds[4]]);
  const queueTokens = await createQueueTokens(orm, { userId, otherUserId: noAccount!.id, performanceA: a.performanceId, performanceB: b.performanceId });
  return {
    userId,
    userWithoutAccount: noAccount!.id,
    productA,
    productB,
    performanceA: a.performanceId,
    performanceB: b.performanceId,
    seatsA: a.seatIds,
    seatsB: b.seatIds,
    absentIds: Array.from({ length: 16 }, (_, i) => ABSENT_FROM + i * 41),
    reservationId,
    queueTokens,
  };
}

/**
 * The queue tokens of the fixtures, written as the queue would have left them: user
 * `userId`'s EXPIRED (paid) and CANCELLED tokens and its ACTIVE one (for a day) for
 * performance A, its WAITING one for performance B, and the other user's ACTIVE one for A.
 */
async function createQueueTokens(
  orm: Orm,
  { userId, otherUserId, performanceA, performanceB }: { userId: number; otherUserId: number; performanceA: number; performanceB: number },
): Promise<Fixtures['queueTokens']> {
  const [expired, cancelled, active, othersActive, waiting] = Array.from({ length: 5 }, () => randomUUID());
  const em = orm.em.fork();
  await em.execute('insert into queue_counters (performance_id, last_ticket, waiting) values (?, 4, 0), (?, 1, 1)', [performanceA, performanceB]);
  await em.execute(
    `insert into queue_tokens (id, performance_id, user_id, ticket, status, joined_at, admitted_at, active_until, ended_at, end_reason) values
       (?, ?, ?, 1, 'EXPIRED', now() - interval '3 hours', now() - interval '3 hours', now() - interval '170 minutes', now() - interval '175 minutes', 'PAID'),
       (?, ?, ?, 2, 'CANCELLED', now() - interval '2 hours', null, null, now() - interval '1 hour', 'CANCELLED'),
       (?, ?, ?, 3, 'ACTIVE', now() - interval '1 minute', now(), now() + interval '1 day', null, null),
       (?, ?, ?, 4, 'ACTIVE', now() - interval '1 minute', now(), now() + interval '1 day', null, null),
       (?, ?, ?, 1, 'WAITING', now(), null, null, null, null)`,
    [
      expired, performanceA, userId,
      cancelled, performanceA, userId,
      active, performanceA, userId,
      othersActive, performanceA, otherUserId,
      waiting, performanceB, userId,
    ],
  );
  return { active: active!, waiting: waiting!, ended: [expired!, cancelled!], othersActive: othersActive! };
}

/** What exists, read back from the database, the contract's problem types and the accepted tokens, for the oracle. */
export async function readWorld(orm: Orm, bodyLimitBytes: number, validTokens: ReadonlySet<string>): Promise<World> {
  const em = orm.em.fork();
  const ids = async (sql: string) => (await em.execute<{ id: number }[]>(sql)).map((r) => Number(r.id));
  const seats = await em.execute<{ id: number; performance_id: number }[]>('select id, performance_id from seats');
  const tokens = await em.execute<{ id: string; user_id: number; performance_id: number; status: string }[]>(
    'select id, user_id, performance_id, status from queue_tokens',
  );
  const world: World = {
    bodyLimitBytes,
    users: new Set(await ids('select id from app_users')),
    accountUsers: new Set(await ids('select user_id as id from point_accounts')),
    products: new Set(await ids('select id from products')),
    performances: new Set(await ids('select id from performances')),
    seatPerformance: new Map(seats.map((s) => [Number(s.id), Number(s.performance_id)])),
    problemTypes: problemTypes(),
    validTokens,
    callers: new Map([...validTokens].map((token) => [token, bearerSubject(token)])),
    queueTokens: new Map(tokens.map((t) => [t.id, { userId: Number(t.user_id), performanceId: Number(t.performance_id), status: t.status }])),
  };
  const highest = Math.max(0, ...(await ids(`select max(id) as id from app_users union all select max(id) from products union all select max(id) from seats union all select max(id) from performances`)).filter(Number.isFinite));
  if (highest >= ABSENT_FROM) throw new Error(`ids reach ${highest}: the absent ids of the fixtures exist`);
  return world;
}

/** The user a bearer token (a JWT the development issuer signed) names in its `sub`. */
function bearerSubject(token: string): number {
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
  const userId = Number(claims.sub);
  if (!Number.isSafeInteger(userId)) throw new Error(`a fixture token names no user: sub ${String(claims.sub)}`);
  return userId;
}

/** Per table of the public schema: row count and an md5 of all its rows; and the fixtures' state in clear. */
export interface Snapshot {
  tables: Record<string, { rows: number; md5: string | null }>;
  stock: { id: number; stock: number }[];
  balances: { user_id: number; balance_points: number }[];
  seatStatuses: { status: string; count: number }[];
  seats: { id: number; status: string; reservation_id: string | null }[];
}

export async function snapshot(orm: Orm): Promise<Snapshot> {
  const em = orm.em.fork();
  const tables = await em.execute<{ table_name: string }[]>(
    `select table_name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations' order by table_name`,
  );
  const result: Snapshot['tables'] = {};
  for (const { table_name: name } of tables) {
    const [row] = await em.execute<{ rows: string; md5: string | null }[]>(
      `select count(*) as rows, md5(string_agg(t::text, '|' order by t::text)) as md5 from "${name}" t`,
    );
    result[name] = { rows: Number(row!.rows), md5: row!.md5 };
  }
  return {
    tables: result,
    stock: await em.execute('select id, stock from products order by id'),
    balances: await em.execute('select user_id, balance_points from point_accounts order by user_id'),
    seatStatuses: (await em.execute<{ status: string; count: string }[]>('select status, count(*) as count from seats group by status order by status')).map(
      (r) => ({ status: r.status, count: Number(r.count) }),
    ),
    seats: await em.execute('select id, status, reservation_id from seats order by id'),
  };
}

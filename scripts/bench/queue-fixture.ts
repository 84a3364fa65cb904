/**
 * The waiting-queue benchmark's data: the bench database emptied and seeded with users
 * that have points, one concert with three performances (a warm-up one, the join storm's
 * and the drain's, each a fresh queue), and one seat per drain user on the drain's.
 */
import { prepareDatabase } from '../../db/orm.ts';
import { emptyApplicationTables } from './stack.ts';

/** Sizes and prices of the queue fixture. */
export const QUEUE_FIXTURE = {
  /** Price of every seat, in won (paid with points). */
  seatPriceWon: 1000,
  /** Each user's balance, in points (one TOP_UP ledger row): enough for hundreds of seats. */
  balancePoints: 1_000_000,
  /** Seats of the warm-up performance (the warm-up holds and pays a few). */
  warmUpSeats: 20,
} as const;

/** What the queue fixture holds. Users are 1..`userIds.length`. */
export interface QueueFixture {
  userIds: number[];
  warmUpPerformanceId: number;
  /** The join storm's performance (no seats: its users only join). */
  stormPerformanceId: number;
  /** The drain's performance. */
  drainPerformanceId: number;
  /** Seats of the warm-up performance, ascending. */
  warmUpSeatIds: number[];
  /** Seats of the drain performance, ascending; drain user i (0-based) holds the i-th. */
  drainSeatIds: number[];
}

/**
 * Creates and migrates the bench database `url` (a PostgreSQL URL), empties it and seeds
 * `users` users with {@link QUEUE_FIXTURE}.balancePoints points each (users, accounts
 * and their TOP_UP ledger rows in one statement), the concert and its performances, and
 * `drainSeats` seats on the drain performance. Throws on any database error.
 */
export async function prepareQueueDatabase(url: string, users: number, drainSeats: number): Promise<QueueFixture> {
  const { orm } = await prepareDatabase({ url, poolMax: 2 });
  try {
    const em = orm.em.fork();
    await emptyApplicationTables(em);
    const f = QUEUE_FIXTURE;
    await em.execute(
      `with users as (
         insert into app_users (name, created_at) select 'queue-user-' || n, now() from generate_series(1, ?) n returning id
       ), accounts as (
         insert into point_accounts (user_id, balance_points, updated_at) select id, ?, now() from users
       )
       insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
       select id, 'TOP_UP', ?, 'bench-seed-' || id, 'bench-seed-' || id, now() from users`,
      [users, f.balancePoints, f.balancePoints],
    );
    const [concert] = await em.execute<{ id: number }[]>(
      `insert into concerts (title, artist, venue) values ('Bench queue concert', 'Bench ensemble', 'Bench hall') returning id`,
    );
    const performances = await em.execute<{ id: number }[]>(
      `insert into performances (concert_id, starts_at)
       select ?, now() + make_interval(days => 30 + n) from generate_series(1, 3) n order by n returning id`,
      [concert!.id],
    );
    const [warmUp, storm, drain] = performances.map((p) => p.id).sort((a, b) => a - b) as [number, number, number];
    const seatsOf = async (performanceId: number, count: number) => {
      const rows = await em.execute<{ id: number }[]>(
        `insert into seats (performance_id, section, number, price_won, status)
         select ?, 'A', n, ?, 'AVAILABLE' from generate_series(1, ?) n returning id`,
        [performanceId, f.seatPriceWon, count],
      );
      return rows.map((r) => r.id).sort((a, b) => a - b);
    };
    const warmUpSeatIds = await seatsOf(warmUp, f.warmUpSeats);
    const drainSeatIds = await seatsOf(drain, drainSeats);
    await em.execute('analyze');
    return {
      userIds: Array.from({ length: users }, (_, i) => i + 1),
      warmUpPerformanceId: warmUp,
      stormPerformanceId: storm,
      drainPerformanceId: drain,
      warmUpSeatIds,
      drainSeatIds,
    };
  } finally {
    await orm.close();
  }
}

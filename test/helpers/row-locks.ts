/**
 * Stopping a saga at a chosen step without touching the product code: the test holds a
 * row lock in PostgreSQL (an open transaction with `SELECT ... FOR NO KEY UPDATE`) on the
 * row that step locks first, so the worker's activity waits inside its transaction.
 * {@link waitForBlocked} then watches `pg_stat_activity` / `pg_blocking_pids` until the
 * worker's statements are queued behind that lock: an event to act on (kill the worker,
 * the API, the Temporal server), not a sleep.
 *
 * Which step waits on which row (see activities/):
 * - `point_accounts` (user_id): payWithPoints, refundPoints, topUpPoints;
 * - `orders` (id): confirmOrder, cancelOrder;
 * - `stock_reservations` (order_id, all rows of the order): releaseStock, and reserveStock
 *   retried after its rows exist (activities/inventory.ts);
 * - `reservations` (id): every seat step of a reservation saga.
 */
import pg from 'pg';
import { pollUntil } from './waiting.ts';

/** Tables a test may lock rows of, and their key column. */
const KEYS = { point_accounts: 'user_id', orders: 'id', reservations: 'id', seats: 'id', stock_reservations: 'order_id' } as const;

/** A table {@link RowLocker.lock} can lock rows of. */
export type LockableTable = keyof typeof KEYS;

/** One connection that holds row locks in an open transaction until released. */
export class RowLocker {
  readonly #client: pg.Client;
  readonly pid: number;
  #inTransaction = false;

  private constructor(client: pg.Client, pid: number) {
    this.#client = client;
    this.pid = pid;
  }

  /** Connects to `url` (the test database). */
  static async open(url: string): Promise<RowLocker> {
    const client = new pg.Client({ connectionString: url, application_name: 'reliability-row-locker' });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    return new RowLocker(client, rows[0]!.pid);
  }

  /**
   * Locks the rows of `table` whose key is in `keys` (opening the transaction if needed)
   * and returns once they are held. A key may have several rows (`stock_reservations`:
   * every line of the order); each key needs one at least.
   *
   * @throws Error when a key has no row (the lock would not stop anything).
   */
  async lock(table: LockableTable, keys: readonly (number | string)[]): Promise<void> {
    if (!this.#inTransaction) {
      await this.#client.query('begin');
      this.#inTransaction = true;
    }
    const key = KEYS[table];
    const { rows } = await this.#client.query<{ key: string }>(
      `select ${key}::text as key from ${table} where ${key}::text = any($1::text[]) order by ${key} for no key update`,
      [keys.map(String)],
    );
    const found = new Set(rows.map((r) => r.key)).size;
    if (found !== new Set(keys.map(String)).size) throw new Error(`Only ${found} of ${keys.length} ${table} keys have rows to lock`);
  }

  /** Ends the transaction (rollback: the locks never changed anything), releasing every lock. */
  async release(): Promise<void> {
    if (!this.#inTransaction) return;
    this.#inTransaction = false;
    await this.#client.query('rollback');
  }

  /** Releases and disconnects. */
  async close(): Promise<void> {
    await this.release().catch(() => {});
    await this.#client.end();
  }
}

/** A backend waiting behind a {@link RowLocker}. */
export interface BlockedBackend {
  pid: number;
  query: string;
  applicationName: string;
}

/**
 * The backends whose statements wait, directly or through a queue, for a lock that
 * `locker` holds. (When several statements wait for one row, only the first waits on the
 * locker itself; the others wait on the first's tuple lock, hence the recursion.)
 */
export async function blockedBehind(observer: pg.Client | pg.Pool, locker: RowLocker): Promise<BlockedBackend[]> {
  // A fresh statement outside any transaction, so pg_stat_activity is not a stale snapshot.
  const { rows } = await observer.query<{ pid: number; query: string; application_name: string }>(
    `with recursive waiting as (
       select pid, query, application_name from pg_stat_activity
       where $1 = any(pg_blocking_pids(pid)) and wait_event_type = 'Lock'
       union
       select a.pid, a.query, a.application_name from pg_stat_activity a join waiting w on w.pid = any(pg_blocking_pids(a.pid))
       where a.wait_event_type = 'Lock'
     )
     select pid, query, application_name from waiting`,
    [locker.pid],
  );
  return rows.map((r) => ({ pid: r.pid, query: r.query, applicationName: r.application_name }));
}

/**
 * Resolves once exactly `count` backends whose current statement matches `query` wait
 * behind `locker` (e.g. `count` payWithPoints activities waiting on `point_accounts`).
 * Returns them.
 *
 * @throws Error after `timeoutMs` (default 60 s), with what is waiting at that moment.
 */
export async function waitForBlocked(
  observer: pg.Client | pg.Pool,
  locker: RowLocker,
  opts: { count: number; query: RegExp; timeoutMs?: number },
): Promise<BlockedBackend[]> {
  let last: BlockedBackend[] = [];
  try {
    await pollUntil(
      `${opts.count} statements matching ${String(opts.query)} to wait behind locker ${locker.pid}`,
      async () => {
        last = (await blockedBehind(observer, locker)).filter((b) => opts.query.test(b.query));
        if (last.length > opts.count) {
          throw new Error(`${last.length} statements wait behind locker ${locker.pid}, expected ${opts.count}:\n${last.map((b) => b.query).join('\n')}`);
        }
        return last.length === opts.count;
      },
      { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 50 },
    );
  } catch (err) {
    const waiting = await blockedBehind(observer, locker).catch(() => []);
    throw new Error(`${(err as Error).message}; waiting now: ${JSON.stringify(waiting.map((b) => b.query))}`);
  }
  return last;
}

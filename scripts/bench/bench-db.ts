/**
 * The benchmark's own PostgreSQL connections, apart from the pools of the stack it
 * measures: one to the `postgres` database (server version, the backends serving the
 * bench database) and one to the bench database (outcomes of orders answered 202, the
 * waiting queue's token table).
 * Each is opened on first use and reopened after an error, so both survive a database
 * restart.
 */
import pg from 'pg';
import { OrderWatcher } from './order-watcher.ts';

/** `url` with its database (path) replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A client connected on first use and forgotten when it errors, so the next use reconnects. */
class LazyClient {
  readonly #url: string;
  #client: pg.Client | undefined;

  constructor(url: string) {
    this.#url = url;
  }

  async get(): Promise<pg.Client> {
    if (!this.#client) {
      const c = new pg.Client({ connectionString: this.#url });
      c.on('error', () => {
        if (this.#client === c) this.#client = undefined;
      });
      await c.connect();
      this.#client = c;
    }
    return this.#client;
  }

  /** Ends the current client, if any; never throws. */
  async end(): Promise<void> {
    await this.#client?.end().catch(() => undefined);
  }

  forget(): void {
    this.#client = undefined;
  }
}

/**
 * The connections of one run to the bench database `benchDbUrl` (a PostgreSQL URL) and
 * to the `postgres` database of the same server.
 */
export class BenchDatabase {
  /** The bench database's name (the URL's path). */
  readonly name: string;
  /** Outcomes of orders answered 202, read from their rows (no load on the API or Temporal). */
  readonly watcher: OrderWatcher;
  readonly #admin: LazyClient;
  readonly #bench: LazyClient;
  /** Last backend list per set of database names, and when it was read (ms epoch). */
  readonly #pids = new Map<string, { pids: number[]; at: number }>();

  constructor(benchDbUrl: string) {
    this.name = new URL(benchDbUrl).pathname.slice(1);
    this.#admin = new LazyClient(benchDbUrl.replace(/\/[^/]*$/, '/postgres'));
    this.#bench = new LazyClient(benchDbUrl);
    this.watcher = new OrderWatcher(async (ids) => {
      const db = await this.#bench.get();
      return (await db.query<{ id: string; status: string }>('select id, status from orders where id = any($1::uuid[])', [ids])).rows;
    });
  }

  /**
   * Rows of `sql` run on the `postgres` database. Rejects with the connection or query
   * error; after a failure the admin connection is dropped and the next call reconnects
   * (the watcher and the bench connection are left alone: a level keeps running).
   */
  async adminQuery<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<Row[]> {
    const client = await this.#admin.get();
    try {
      return (await client.query<Row>(sql, params)).rows;
    } catch (err) {
      await this.#admin.end();
      this.#admin.forget();
      throw err;
    }
  }

  /**
   * Rows of `sql` ($1-style parameters) run on the bench database. Rejects with the
   * connection or query error; the next call reconnects after a lost connection.
   */
  async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<Row[]> {
    const client = await this.#bench.get();
    return (await client.query<Row>(sql, params)).rows;
  }

  /**
   * Pids of the PostgreSQL backends serving the bench database (they change as pools grow
   * and shrink), listed at most once a second; on an error, the last list.
   */
  postgresPids = (): Promise<number[]> => this.backendPids([this.name]);

  /**
   * Pids of the PostgreSQL backends connected to any of the databases `names` (e.g. the
   * Temporal server's persistence and visibility databases, apart from the bench
   * database's), listed at most once a second per set of names; on an error, the last list.
   */
  backendPids = async (names: readonly string[]): Promise<number[]> => {
    const key = [...names].sort().join(',');
    const cached = this.#pids.get(key) ?? { pids: [], at: 0 };
    if (Date.now() - cached.at > 1000) {
      cached.at = Date.now();
      this.#pids.set(key, cached);
      try {
        cached.pids = (await this.adminQuery<{ pid: number }>('select pid from pg_stat_activity where datname = any($1::text[])', [[...names]])).map((r) => r.pid);
      } catch {
        // keep the last list; the next sample tries again
      }
    }
    return cached.pids;
  };

  /** Closes the watcher (orders still watched resolve ERROR) and ends both connections. */
  async close(): Promise<void> {
    this.watcher.close();
    await this.#admin.end();
    await this.#bench.end();
  }
}

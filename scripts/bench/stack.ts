/**
 * The benchmarked stack, each part a child process so its CPU and memory can be read:
 * a Temporal dev server of its own (free ports, file-backed SQLite in a temporary
 * folder), the bench database (created, migrated and reseeded on every run), the mock
 * data platform, the worker and the API (or the single-transaction baseline server).
 * Child output goes to log files in the run's folder, never through this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { prepareDatabase } from '../../db/orm.ts';
import { canConnect, SEARCH_ATTRIBUTES } from '../temporal-dev-server.ts';
import { findTemporalCli, REPO_ROOT } from '../temporal-cli.ts';
import { waitForHttp } from '../wait.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CouponPool, type BenchCoupon, type OrderMixFixture } from './order-mix.ts';

/** A running child process of the stack. */
export interface StackPart {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const parts = new Set<StackPart>();
process.once('exit', () => {
  // Last resort: never leave a part behind when the benchmark dies.
  for (const part of parts) part.child.kill('SIGKILL');
});

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Spawns `command args` with `env` (merged into PATH and HOME only), output to `<logDir>/<name>.log`. */
export function spawnPart(name: string, command: string, args: string[], env: Record<string, string>, logDir: string): StackPart {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not spawn ${name}`);
  const exited = once(child, 'exit').then(() => undefined);
  let stopping: Promise<void> | undefined;
  const part: StackPart = {
    name,
    pid: child.pid,
    child,
    logFile,
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(force);
        }
        parts.delete(part);
      })();
      return stopping;
    },
  };
  parts.add(part);
  return part;
}

/** A Node entry point of this repository as a part. */
export function spawnNodePart(name: string, entry: string, env: Record<string, string>, logDir: string, nodeArgs: string[] = []): StackPart {
  return spawnPart(name, process.execPath, [...nodeArgs, path.join(REPO_ROOT, entry)], env, logDir);
}

/** Options of {@link startTemporal}. */
export interface TemporalOptions {
  dbFile: string;
  namespace: string;
  logDir: string;
  /** Extra `temporal server start-dev` flags (SQLite pragmas, dynamic config). */
  flags: string[];
  cliPath?: string | undefined;
}

/** Starts a headless dev server on a free port; resolves once the namespace answers. */
export async function startTemporal(options: TemporalOptions): Promise<{ part: StackPart; address: string }> {
  const cli = await findTemporalCli({ cliPath: options.cliPath, progress: (m) => process.stdout.write(`${m}\n`) });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--headless',
    '--namespace', options.namespace,
    '--db-filename', options.dbFile,
    ...options.flags,
    ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', sa]),
    '--log-level', 'error',
  ];
  const part = spawnPart('temporal', cli, args, {}, options.logDir);
  const deadline = Date.now() + 60_000;
  while (!(await canConnect('127.0.0.1', port, 500))) {
    if (part.child.exitCode !== null) throw new Error(`the Temporal dev server exited; see ${part.logFile}`);
    if (Date.now() > deadline) throw new Error(`the Temporal dev server did not open ${address}`);
    await sleep(100);
  }
  const connection = await Connection.connect({ address });
  try {
    for (;;) {
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.describeNamespace({ namespace: options.namespace }));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  } finally {
    await connection.close();
  }
  return { part, address };
}

/** Sizes of the bench fixture. */
export const FIXTURE = {
  stockedProducts: 200,
  emptyProducts: 10,
  richUsers: 500,
  poorUsers: 50,
  priceWon: 1000,
  stock: 1_000_000_000,
  balancePoints: 2_000_000_000,
  /** Open coupon campaigns, each issuing one coupon to every rich user (500 x 20 = 10,000 coupons a run may use). */
  couponCampaigns: 20,
} as const;

/**
 * Creates and migrates the bench database, empties every application table and seeds the
 * bench catalog: stocked products 1..200 (1,000 won), empty products, users 1..500 with
 * 2e9 points (one TOP_UP ledger row each), users without points, and open coupon
 * campaigns with a coupon for every rich user ({@link seedBenchCoupons}).
 */
export async function prepareBenchDatabase(url: string): Promise<OrderMixFixture> {
  const { orm } = await prepareDatabase({ url, poolMax: 2 });
  try {
    const em = orm.em.fork();
    await emptyApplicationTables(em);
    const f = FIXTURE;
    await em.execute(
      `insert into products (sku, name, price_won, stock, initial_stock, created_at)
       select 'bench-' || n, 'Bench product ' || n, ${f.priceWon}, ${f.stock}, ${f.stock}, now() from generate_series(1, ${f.stockedProducts}) n`,
    );
    await em.execute(
      `insert into products (sku, name, price_won, stock, initial_stock, created_at)
       select 'bench-empty-' || n, 'Sold-out product ' || n, ${f.priceWon}, 0, 0, now() from generate_series(1, ${f.emptyProducts}) n`,
    );
    await em.execute(
      `insert into app_users (name, created_at) select 'bench-user-' || n, now() from generate_series(1, ${f.richUsers + f.poorUsers}) n`,
    );
    await em.execute(
      `insert into point_accounts (user_id, balance_points, updated_at)
       select id, case when id <= ${f.richUsers} then ${f.balancePoints} else 0 end, now() from app_users`,
    );
    await em.execute(
      `insert into point_ledger (account_user_id, kind, amount_points, reference, idempotency_key, created_at)
       select id, 'TOP_UP', ${f.balancePoints}, 'bench-seed-' || id, 'bench-seed-' || id, now() from app_users where id <= ${f.richUsers}`,
    );
    const coupons = await seedBenchCoupons(em);
    await em.execute('analyze');
    const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
    return {
      stockedProductIds: range(1, f.stockedProducts),
      emptyProductIds: range(f.stockedProducts + 1, f.emptyProducts),
      richUserIds: range(1, f.richUsers),
      poorUserIds: range(f.richUsers + 1, f.poorUsers),
      coupons: new CouponPool(coupons),
    };
  } finally {
    await orm.close();
  }
}

/** Empties every application table of the database (all but the migrations' own), identities restarted. */
export async function emptyApplicationTables(em: EntityManager): Promise<void> {
  const tables = await em.execute<{ tablename: string }[]>(
    "select tablename from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations'",
  );
  await em.execute(`truncate ${tables.map((t) => `"${t.tablename}"`).join(', ')} restart identity cascade`);
}

/**
 * Seeds {@link FIXTURE}.couponCampaigns open campaigns (valid from a day ago for 30 days;
 * alternately FIXED 300 won and PERCENT 10% capped at 150 won, minimum order 1,000 won,
 * so every two-line order of 2,000 won qualifies), each fully issued: one AVAILABLE coupon
 * per rich user. Returns the coupons by campaign, then user.
 */
async function seedBenchCoupons(em: EntityManager): Promise<BenchCoupon[]> {
  const f = FIXTURE;
  await em.execute(
    `insert into coupon_campaigns (name, discount_type, discount_value, max_discount_won, min_order_won, valid_from, valid_until, quantity, issued_count, created_at)
     select 'bench-campaign-' || n, case when n % 2 = 0 then 'FIXED' else 'PERCENT' end, case when n % 2 = 0 then 300 else 10 end,
            case when n % 2 = 0 then null else 150 end, 1000, now() - interval '1 day', now() + interval '30 days', ${f.richUsers}, ${f.richUsers}, now()
     from generate_series(1, ${f.couponCampaigns}) n`,
  );
  await em.execute(
    `insert into coupons (campaign_id, user_id, status, issued_at, updated_at)
     select c.id, u.id, 'AVAILABLE', now(), now() from coupon_campaigns c cross join app_users u where u.id <= ${f.richUsers}`,
  );
  const rows = await em.execute<{ id: number; user_id: number }[]>('select id, user_id from coupons order by campaign_id, user_id');
  return rows.map((r) => ({ couponId: r.id, userId: r.user_id }));
}

/** Waits until `url` answers 2xx, failing early when `part` exits. */
export async function waitForPart(part: StackPart, url: string, timeoutMs = 60_000): Promise<void> {
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(`${part.name} exited during start-up; see ${part.logFile}`));
    part.child.once('exit', onExit);
  });
  try {
    await Promise.race([waitForHttp(url, timeoutMs), exited]);
  } finally {
    part.child.off('exit', onExit!);
    exited.catch(() => undefined);
  }
}

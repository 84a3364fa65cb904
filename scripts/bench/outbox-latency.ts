/**
 * Commit-to-delivered latency of the transactional outbox over a run: for each event the
 * relay delivered, `delivered_at - occurred_at` of its `data_platform_deliveries` row.
 * `occurred_at` is the pivot's transaction time (the instant the order or reservation was
 * confirmed; the commit follows within the pivot's few milliseconds), `delivered_at` the
 * moment the relay recorded the platform's 2xx. Exact percentiles over every delivered row
 * since `since` (nearest rank, as stats.ts), and the rows still PENDING or FAILED.
 *
 * From the bench: `console.log(outboxLatencyLine(await outboxLatency(benchDbUrl, startedAt)))`.
 * By hand: `node scripts/bench/outbox-latency.ts [<database url>] [--since <ISO instant>]`
 * (default BENCH_DATABASE_URL, else the bench database next to DATABASE_URL's).
 */
import pg from 'pg';
import { loadConfig } from '../../config/index.ts';
import { withDatabase } from './bench-db.ts';
import { summarize, type LatencySummary } from './stats.ts';

/** The latency of the outbox's delivered events (ms) and what is left undelivered. */
export interface OutboxLatency {
  /** `delivered_at - occurred_at` of the DELIVERED rows, in ms. */
  latency: LatencySummary;
  /** Rows still PENDING (not delivered yet). */
  pending: number;
  /** Rows FAILED (refused by the platform for good). */
  failed: number;
}

/**
 * Reads the latency of the events delivered from the outbox of `databaseUrl` whose event
 * occurred at or after `since` (default: every row).
 *
 * @throws the connection's or the query's error.
 */
export async function outboxLatency(databaseUrl: string, since: Date = new Date(0)): Promise<OutboxLatency> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const delivered = await client.query<{ ms: number }>(
      `select extract(epoch from (delivered_at - occurred_at)) * 1000 as ms
       from data_platform_deliveries where status = 'DELIVERED' and delivered_at is not null and occurred_at >= $1`,
      [since],
    );
    const [left] = (
      await client.query<{ pending: number; failed: number }>(
        `select count(*) filter (where status = 'PENDING')::int as pending, count(*) filter (where status = 'FAILED')::int as failed
         from data_platform_deliveries where occurred_at >= $1`,
        [since],
      )
    ).rows;
    return { latency: summarize(delivered.rows.map((r) => Math.max(0, Number(r.ms)))), pending: left?.pending ?? 0, failed: left?.failed ?? 0 };
  } finally {
    await client.end();
  }
}

/** One line for the bench's log or report: count, p50, p99 and max in ms, and what is left. */
export function outboxLatencyLine({ latency, pending, failed }: OutboxLatency): string {
  return (
    `outbox commit-to-delivered: ${latency.count} events, p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms` +
    `; ${pending} pending, ${failed} failed`
  );
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const sinceAt = args.indexOf('--since');
  const since = sinceAt >= 0 ? new Date(args[sinceAt + 1] ?? '') : undefined;
  if (since && Number.isNaN(since.getTime())) throw new Error('--since expects an ISO-8601 instant');
  const positional = args.filter((_, i) => sinceAt < 0 || (i !== sinceAt && i !== sinceAt + 1));
  const url = positional[0] ?? process.env.BENCH_DATABASE_URL ?? withDatabase(loadConfig().database.url, 'sagas_bench');
  console.log(outboxLatencyLine(await outboxLatency(url, since)));
}

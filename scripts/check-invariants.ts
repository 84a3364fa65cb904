/**
 * `npm run check:invariants [-- --no-data-platform] [-- --no-allow-in-flight] [-- --no-temporal]`:
 * checks the design's invariants on the application database (`DATABASE_URL`) and prints
 * each check with ✓/✗ and each violation with the ids involved. The delivery check uses the
 * events of the data platform at `DATA_PLATFORM_URL` (`GET /events`, the mock's listing)
 * when it answers, and is skipped with a note when it does not. By default a confirmed
 * saga whose delivery is still PENDING is reported as in flight, not as a violation. The
 * orphan check asks Temporal (`TEMPORAL_ADDRESS`) whether the workflow of each PENDING saga
 * past its deadline (the reconciliation's `RECONCILIATION_*_GRACE_MS`) still runs, and
 * judges by age alone when Temporal does not answer or with `--no-temporal`. The queue's cap
 * is `QUEUE_ACTIVE_LIMIT` and its overdue grace 5 s plus `QUEUE_POLL_MS`, as the service runs.
 *
 * Exit status: 0 when every invariant holds, 1 on any violation, 2 when the check could
 * not run (database unreachable, migrations pending, bad arguments).
 */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { sagaWorkflowStates } from '../activities/reconciliation.ts';
import { loadConfig, type AppConfig } from '../config/index.ts';
import { temporalConnectionOptions } from '../config/temporal.ts';
import { checkInvariants, formatInvariantReport, type InvariantOptions, type QueueCheckOptions, type ReceivedEventLike } from '../invariants/index.ts';
import { openOrm } from '../db/orm.ts';

/** Flags of the command. */
export interface CheckFlags {
  /** Fetch the data platform's events and check delivery (default true). */
  dataPlatform: boolean;
  /** Report confirmed sagas whose delivery is PENDING as in flight (default true). */
  allowInFlight: boolean;
  /** Ask Temporal whether overdue PENDING sagas still have a running workflow (default true). */
  temporal?: boolean;
}

/**
 * A lookup of workflow states through a client on `config`'s Temporal, and its close; or
 * why there is none (Temporal did not answer within `timeoutMs`).
 */
export async function connectWorkflowStates(
  config: AppConfig,
  timeoutMs = 5_000,
): Promise<{ lookup: InvariantOptions['workflowStates']; close: () => Promise<void> } | { error: string }> {
  try {
    const connection = await Connection.connect({ ...(await temporalConnectionOptions(config.temporal)), connectTimeout: timeoutMs });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    return { lookup: (ids) => sagaWorkflowStates(client, ids), close: () => connection.close() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Fetches `GET <baseUrl>/events`; resolves to the events, or to why it could not. */
export async function fetchReceivedEvents(baseUrl: string, timeoutMs = 5_000): Promise<{ events: ReceivedEventLike[] } | { error: string }> {
  try {
    const res = await fetch(new URL('/events', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { error: `GET /events answered ${res.status}` };
    const body = (await res.json()) as { events?: unknown };
    if (!Array.isArray(body.events)) return { error: 'GET /events did not return { events: [...] }' };
    return { events: body.events as ReceivedEventLike[] };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * The queue checks' settings from `config.queue`: the cap is QUEUE_ACTIVE_LIMIT, and a token
 * may stay ACTIVE past its `activeUntil` for 5 s plus QUEUE_POLL_MS (the admission driver
 * ends it within its poll).
 */
export function queueCheckOptions(config: AppConfig): QueueCheckOptions {
  return { activeLimit: config.queue.activeLimit, overdueGraceMs: 5_000 + config.queue.pollMs };
}

/**
 * Runs the check against `config`'s database and data platform, writing the report to
 * `write`. Resolves to the exit status (0 ok, 1 violations, 2 could not check).
 */
export async function runInvariantCheck(config: AppConfig, flags: CheckFlags, write: (line: string) => void): Promise<number> {
  const orm = await openOrm({ url: config.database.url, poolMax: 2 });
  try {
    const pending = await orm.migrator.getPending();
    if (pending.length > 0) {
      write(`database ${new URL(config.database.url).pathname.slice(1)} has pending migrations (${pending.map((m) => m.name).join(', ')}): run npm run db:setup first`);
      return 2;
    }
    let receivedEvents: ReceivedEventLike[] | undefined;
    if (flags.dataPlatform) {
      const fetched = await fetchReceivedEvents(config.dataPlatform.url);
      if ('events' in fetched) {
        receivedEvents = fetched.events;
        write(`data platform ${config.dataPlatform.url}: ${fetched.events.length} events received`);
      } else {
        write(`data platform ${config.dataPlatform.url} did not answer (${fetched.error}): delivery check skipped`);
      }
    } else {
      write('data platform not asked (--no-data-platform): delivery check skipped');
    }
    const temporal = flags.temporal === false ? { error: 'not asked (--no-temporal)' } : await connectWorkflowStates(config);
    if ('error' in temporal) write(`Temporal ${config.temporal.address}: ${temporal.error}; orphans judged by age alone`);
    try {
      const report = await checkInvariants(orm, {
        receivedEvents,
        allowInFlight: flags.allowInFlight,
        orphanGraceMs: { order: config.reconciliation.orderGraceMs, reservation: config.reconciliation.reservationGraceMs },
        queue: queueCheckOptions(config),
        ...('lookup' in temporal ? { workflowStates: temporal.lookup } : {}),
      });
      write(formatInvariantReport(report));
      return report.ok ? 0 : 1;
    } finally {
      if ('close' in temporal) await temporal.close();
    }
  } finally {
    await orm.close();
  }
}

if (import.meta.main) {
  let flags: CheckFlags;
  try {
    const { values } = parseArgs({
      options: {
        'data-platform': { type: 'boolean', default: true },
        'allow-in-flight': { type: 'boolean', default: true },
        temporal: { type: 'boolean', default: true },
      },
      allowNegative: true,
      strict: true,
    });
    flags = { dataPlatform: values['data-platform'], allowInFlight: values['allow-in-flight'], temporal: values.temporal };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: npm run check:invariants [-- --no-data-platform] [-- --no-allow-in-flight] [-- --no-temporal]\n`);
    process.exit(2);
  }
  try {
    process.exitCode = await runInvariantCheck(loadConfig(), flags, (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    process.stderr.write(`invariant check could not run: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}

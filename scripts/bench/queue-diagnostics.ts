/**
 * Where the time of a waiting-queue phase goes, beyond CPU per process (proc.ts): what the
 * PostgreSQL backends serving the bench database are doing (sampled from
 * `pg_stat_activity`: running, waiting on a lock, idle inside a transaction while their
 * client works), and how late the load generator's own event loop runs (a late loop
 * would send late and count its own delay as the server's).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BenchDatabase } from './bench-db.ts';

/** Mean and most backends in each state over the samples. */
export interface BackendStates {
  samples: number;
  /** Running a statement, not waiting on a lock. */
  activeMean: number;
  /** Waiting on a heavyweight lock (`wait_event_type = 'Lock'`: a row, a transaction id). */
  lockWaitMean: number;
  lockWaitMax: number;
  /** Inside a transaction, waiting for their client's next statement (holding its locks meanwhile). */
  idleInTransactionMean: number;
  idleInTransactionMax: number;
}

/** The diagnostics of one phase. */
export interface PhaseDiagnostics {
  postgres: BackendStates;
  /** Event-loop delay of the load generator, ms: p50 / p99 / max. */
  loadgenEventLoopDelayMs: { p50: number; p99: number; max: number };
}

/** The event-loop monitor's timer, ms; what it records is this plus the delay, so it is subtracted. */
const LOOP_RESOLUTION_MS = 10;

/** A running sampler; `stop()` ends it and resolves with what it saw. */
export interface DiagnosticsSampler {
  stop(): Promise<PhaseDiagnostics>;
}

/** Samples the bench database's backends every `intervalMs` (default 50) and this process's event loop until stopped. */
export function startDiagnostics(db: BenchDatabase, intervalMs = 50): DiagnosticsSampler {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const seen: { active: number; lock: number; idleTx: number }[] = [];
  let running = true;
  const sampling = (async () => {
    while (running) {
      try {
        const [row] = await db.query<{ active: number; lock: number; idle_tx: number }>(
          `select count(*) filter (where state = 'active' and coalesce(wait_event_type, '') <> 'Lock')::int as active,
                  count(*) filter (where wait_event_type = 'Lock')::int as lock,
                  count(*) filter (where state = 'idle in transaction')::int as idle_tx
           from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
        );
        if (row) seen.push({ active: row.active, lock: row.lock, idleTx: row.idle_tx });
      } catch {
        // a failed sample is skipped
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await sampling;
      loop.disable();
      const mean = (f: (s: (typeof seen)[number]) => number) => (seen.length ? Math.round((seen.reduce((n, s) => n + f(s), 0) / seen.length) * 100) / 100 : 0);
      const max = (f: (s: (typeof seen)[number]) => number) => seen.reduce((m, s) => Math.max(m, f(s)), 0);
      const ms = (ns: number) => Math.max(0, Math.round(ns / 1e5 - LOOP_RESOLUTION_MS * 10) / 10);
      return {
        postgres: {
          samples: seen.length,
          activeMean: mean((s) => s.active),
          lockWaitMean: mean((s) => s.lock),
          lockWaitMax: max((s) => s.lock),
          idleInTransactionMean: mean((s) => s.idleTx),
          idleInTransactionMax: max((s) => s.idleTx),
        },
        loadgenEventLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
      };
    },
  };
}

/**
 * CPU time and memory of the benchmarked processes, read from Linux's /proc: user plus
 * system time of every thread of a process (`/proc/<pid>/stat`, fields 14 and 15, in
 * clock ticks) and its resident set (`/proc/<pid>/statm`). A group is one process (API,
 * worker, Temporal server) or a changing set of them (the PostgreSQL backends serving the
 * benchmark's database, found in `pg_stat_activity`). On other systems every figure is
 * reported as unknown (null) and the benchmark still runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const PAGE_BYTES = 4096;

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_SECOND = clockTicksPerSecond();

/** Whether /proc can be read here (Linux). */
export const PROC_AVAILABLE = (() => {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
})();

/** CPU time (user + system, all threads) of `pid` in ms, or undefined when it is gone. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident set of `pid` in MiB, or undefined when it is gone. */
export function rssMbOf(pid: number): number | undefined {
  try {
    const resident = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return (resident * PAGE_BYTES) / (1024 * 1024);
  } catch {
    return undefined;
  }
}

/** A named set of processes whose CPU is summed: fixed pids, or a function listing the current ones. */
export interface ProcessGroup {
  name: string;
  pids: () => number[] | Promise<number[]>;
  /** Whether to track the peak resident set (single long-lived processes). */
  trackMemory?: boolean;
}

/** CPU ms used and peak RSS (MiB) of each group between two marks. */
export type Usage = Record<string, { cpuMs: number | null; peakRssMb: number | null }>;

/**
 * Samples the groups every `intervalMs`: remembers each pid's latest CPU time (so a
 * process that exits mid-window still counts up to its last sample) and each group's
 * largest resident set since the last {@link ProcessMeter.mark}.
 */
export class ProcessMeter {
  readonly #groups: ProcessGroup[];
  readonly #lastCpu = new Map<string, Map<number, number>>();
  readonly #peak = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;

  constructor(groups: ProcessGroup[]) {
    this.#groups = groups;
    for (const g of groups) this.#lastCpu.set(g.name, new Map());
  }

  /** Starts sampling. */
  async start(intervalMs = 250): Promise<void> {
    await this.sample();
    this.#timer = setInterval(() => {
      this.#sampling ??= this.sample().finally(() => (this.#sampling = undefined));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Reads every process once. */
  async sample(): Promise<void> {
    if (!PROC_AVAILABLE) return;
    for (const group of this.#groups) {
      const seen = this.#lastCpu.get(group.name)!;
      let rss = 0;
      for (const pid of await group.pids()) {
        const cpu = cpuMsOf(pid);
        if (cpu !== undefined) seen.set(pid, cpu);
        if (group.trackMemory) rss += rssMbOf(pid) ?? 0;
      }
      if (group.trackMemory) this.#peak.set(group.name, Math.max(this.#peak.get(group.name) ?? 0, rss));
    }
  }

  /** Cumulative CPU ms of each group so far; resets the peaks. */
  async mark(): Promise<Mark> {
    await this.#sampling;
    await this.sample();
    const cpu: Record<string, number> = {};
    const peak: Record<string, number> = {};
    for (const group of this.#groups) {
      cpu[group.name] = [...this.#lastCpu.get(group.name)!.values()].reduce((s, v) => s + v, 0);
      peak[group.name] = this.#peak.get(group.name) ?? 0;
      this.#peak.set(group.name, 0);
    }
    return { cpu, peak };
  }

  /** What each group used from `from` to `to` (peaks: those seen up to `to`). */
  usage(from: Mark, to: Mark): Usage {
    const usage: Usage = {};
    for (const group of this.#groups) {
      usage[group.name] = {
        cpuMs: PROC_AVAILABLE ? Math.round(to.cpu[group.name]! - from.cpu[group.name]!) : null,
        peakRssMb: PROC_AVAILABLE && group.trackMemory ? Math.round(to.peak[group.name]!) : null,
      };
    }
    return usage;
  }
}

/** A point in time of a {@link ProcessMeter}. */
export interface Mark {
  cpu: Record<string, number>;
  peak: Record<string, number>;
}

/**
 * The results of a waiting-queue run (`npm run bench -- --queue`): the figures of the join
 * storm and of the drain, assembled from what the clients saw and what the token table
 * says, and the targets checked against them.
 */
import type { MachineInfo } from './report.ts';
import type { Usage } from './proc.ts';
import type { PhaseDiagnostics } from './queue-diagnostics.ts';
import type { DrainClient } from './queue-drain.ts';
import type { JoinAnswers } from './queue-storm.ts';
import { admissionOrderViolations, admissionRate, maxConcurrentActive, slotHandOvers, type AdmissionRate, type TokenTimeline } from './queue-table.ts';
import { queueLatency, type QueueLatency } from './stats.ts';
import { tallies } from './queue-storm.ts';

/** CPU of each process group over a phase: ms in all, and ms per unit of work (a join, a confirmed reservation). */
export interface PhaseCpu {
  /** What `perUnit` divides by. */
  unit: string;
  /** Wall time of the phase, s. */
  wallS: number;
  cpuMs: Record<string, number | null>;
  perUnit: Record<string, number | null>;
}

/** What the token table says of one performance's queue. */
export interface TableChecks {
  tokens: number;
  /** Token status -> tokens, at the end of the phase. */
  statuses: Record<string, number>;
  /** Most ACTIVE at one instant, from the [admitted_at, ended_at) intervals. */
  maxActive: number;
  /** Admissions out of ticket order (0: strictly FIFO). */
  admissionOrderViolations: number;
}

/** The join storm: one performance, every user joins once, in an open loop. */
export interface StormFigures extends JoinAnswers {
  performanceId: number;
  users: number;
  /** Arrival rate, joins/s. */
  rate: number;
  table: TableChecks;
  cpu: PhaseCpu;
  diagnostics: PhaseDiagnostics;
}

/** The drain: users join, wait, hold one seat and pay, N at a time. */
export interface DrainFigures {
  performanceId: number;
  users: number;
  confirmed: number;
  /** Why clients stopped short of CONFIRMED -> clients. */
  failures: Record<string, number>;
  /** First join answered to last confirmation, s. */
  wallS: number;
  /** Tokens admitted into freed slots per s (token table). */
  admission: AdmissionRate;
  /** Reservations confirmed per s over the same window as `admission`. */
  confirmedPerS: number;
  /** `admitted_at` minus the `ended_at` of the token whose slot it took, while tokens waited, ms. */
  admissionLatency: QueueLatency;
  /** Admissions not counted there: the first fill, or a slot freed while nobody waited. */
  admissionsUncounted: number;
  /** Admission latencies below zero (an admission before the slot was freed: a cap breach). */
  negativeLatencies: number;
  /** From admission to the client's read of its token ACTIVE (clients that waited), ms. */
  noticeMs: QueueLatency;
  /** POST /reservations until held; payment until CONFIRMED; both; ms. */
  holdMs: QueueLatency;
  payMs: QueueLatency;
  holdPayMs: QueueLatency;
  /** How long each paid token held its slot (admitted to ended), ms. */
  slotMs: QueueLatency;
  /** Reads of tokens (GET /queue/tokens/:id) and their rate over `wallS`. */
  polls: number;
  pollsPerS: number;
  table: TableChecks;
  cpu: PhaseCpu;
  diagnostics: PhaseDiagnostics;
}

/** Everything a waiting-queue run found. */
export interface QueueBenchResults {
  kind: 'queue';
  startedAt: string;
  finishedAt: string;
  label: string;
  machine: MachineInfo;
  loadAvgBefore: number[];
  settings: Record<string, unknown>;
  storm: StormFigures | null;
  drain: DrainFigures | null;
  targets: { name: string; value: string; met: boolean | null }[];
}

/** CPU of a phase from the meter's usage over it, per `units` of work. */
export function phaseCpu(usage: Usage, wallS: number, units: number, unit: string): PhaseCpu {
  const cpuMs = Object.fromEntries(Object.entries(usage).map(([g, u]) => [g, u.cpuMs]));
  const perUnit = Object.fromEntries(Object.entries(usage).map(([g, u]) => [g, u.cpuMs === null || units === 0 ? null : Math.round((u.cpuMs / units) * 100) / 100]));
  return { unit, wallS: Math.round(wallS * 10) / 10, cpuMs, perUnit };
}

/** The table checks of one performance's tokens. */
export function tableChecks(tokens: readonly TokenTimeline[]): TableChecks {
  return {
    tokens: tokens.length,
    statuses: tallies(tokens.map((t) => t.status)),
    maxActive: maxConcurrentActive(tokens),
    admissionOrderViolations: admissionOrderViolations(tokens),
  };
}

/**
 * The drain's figures from its clients, the performance's tokens and confirmation instants
 * (µs since the epoch, ascending), with `activeLimit` slots.
 */
export function drainFigures(
  input: {
    performanceId: number;
    clients: readonly DrainClient[];
    tokens: readonly TokenTimeline[];
    confirmations: readonly number[];
    activeLimit: number;
    cpu: PhaseCpu;
    diagnostics: PhaseDiagnostics;
  },
): DrainFigures {
  const { clients, tokens, confirmations, activeLimit } = input;
  const handOvers = slotHandOvers(tokens, activeLimit);
  const admission = admissionRate(tokens, activeLimit);
  const inWindow = admission.fromUs === null ? 0 : confirmations.filter((c) => c >= admission.fromUs! && c <= admission.toUs!).length;
  const admittedUs = new Map(tokens.map((t) => [t.tokenId, t.admittedUs]));
  const notice = clients
    .filter((c) => c.polls > 0 && c.sawActiveAt !== undefined && typeof admittedUs.get(c.tokenId ?? '') === 'number')
    .map((c) => c.sawActiveAt! - admittedUs.get(c.tokenId!)! / 1000);
  const confirmed = clients.filter((c) => c.confirmedAt !== undefined);
  const firstJoin = clients.reduce((min, c) => Math.min(min, c.joinedAt ?? Infinity), Infinity);
  const lastConfirmed = confirmed.reduce((max, c) => Math.max(max, c.confirmedAt!), -Infinity);
  const wallS = confirmed.length > 0 && Number.isFinite(firstJoin) ? (lastConfirmed - firstJoin) / 1000 : 0;
  const polls = clients.reduce((n, c) => n + c.polls, 0);
  return {
    performanceId: input.performanceId,
    users: clients.length,
    confirmed: confirmed.length,
    failures: tallies(clients.filter((c) => c.failure).map((c) => c.failure!)),
    wallS: Math.round(wallS * 10) / 10,
    admission,
    confirmedPerS: admission.windowS > 0 ? Math.round((inWindow / admission.windowS) * 10) / 10 : 0,
    admissionLatency: queueLatency(handOvers.latenciesMs),
    admissionsUncounted: handOvers.uncounted,
    negativeLatencies: handOvers.latenciesMs.filter((l) => l < 0).length,
    noticeMs: queueLatency(notice),
    holdMs: queueLatency(confirmed.map((c) => c.holdMs!)),
    payMs: queueLatency(confirmed.map((c) => c.payMs!)),
    holdPayMs: queueLatency(confirmed.map((c) => c.holdMs! + c.payMs!)),
    slotMs: queueLatency(tokens.filter((t) => t.endReason === 'PAID').map((t) => (t.endedUs! - t.admittedUs!) / 1000)),
    polls,
    pollsPerS: wallS > 0 ? Math.round(polls / wallS) : 0,
    table: tableChecks(tokens),
    cpu: input.cpu,
    diagnostics: input.diagnostics,
  };
}

/** Appends the targets (issue 15) for what the run measured to `results.targets`. */
export function queueTargets(results: QueueBenchResults, activeLimit: number): void {
  const { storm, drain, targets } = results;
  if (storm) {
    const failed = storm.sent - storm.answered;
    targets.push({ name: `every join answered (${storm.users} users at ${storm.rate}/s)`, value: `${storm.answered} of ${storm.sent} answered 200/201`, met: failed === 0 });
    targets.push({ name: 'join HTTP p99 <= 200 ms', value: `p50 ${storm.http.p50}, p99 ${storm.http.p99}, max ${storm.http.max} ms`, met: storm.http.p99 <= 200 });
    const fifo = storm.fifo.duplicateTickets + storm.fifo.positionInversions + storm.table.admissionOrderViolations;
    targets.push({
      name: 'positions strictly FIFO (join storm)',
      value: `${storm.fifo.duplicateTickets} duplicate tickets, ${storm.fifo.positionInversions} position inversions in ${storm.fifo.waitingAnswers} WAITING answers, ${storm.table.admissionOrderViolations} admissions out of order`,
      met: fifo === 0,
    });
    targets.push({ name: `at most ${activeLimit} ACTIVE at any instant (join storm, token table)`, value: `max ${storm.table.maxActive}`, met: storm.table.maxActive <= activeLimit });
  }
  if (drain) {
    targets.push({ name: `every drain user confirmed (${drain.users})`, value: `${drain.confirmed} confirmed`, met: drain.confirmed === drain.users });
    targets.push({
      name: 'admission latency p99 <= 1 s after a slot frees',
      value: `p50 ${drain.admissionLatency.p50}, p99 ${drain.admissionLatency.p99}, max ${drain.admissionLatency.max} ms (${drain.admissionLatency.count} admissions)`,
      met: drain.admissionLatency.count > 0 ? drain.admissionLatency.p99 <= 1000 && drain.negativeLatencies === 0 : null,
    });
    const ratio = drain.confirmedPerS > 0 ? drain.admission.admittedPerS / drain.confirmedPerS : 0;
    targets.push({
      name: 'the queue drains at the rate the sagas complete',
      value: `${drain.admission.admittedPerS} admitted/s, ${drain.confirmedPerS} confirmed/s over ${drain.admission.windowS} s`,
      met: drain.confirmedPerS > 0 ? Math.abs(ratio - 1) <= 0.1 : null,
    });
    targets.push({ name: `at most ${activeLimit} ACTIVE at any instant (drain, token table)`, value: `max ${drain.table.maxActive}; ${drain.table.admissionOrderViolations} admissions out of order`, met: drain.table.maxActive <= activeLimit && drain.table.admissionOrderViolations === 0 });
  }
}

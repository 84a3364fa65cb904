/**
 * What the token table says about a run of the waiting queue, independent of what the
 * clients saw: the most ACTIVE tokens at any instant (from the `[admitted_at, ended_at)`
 * intervals), whether admissions followed the ticket order, how long a freed slot stayed
 * free while tokens waited (the admission latency), and how fast tokens were admitted.
 * Instants are read as microseconds since the epoch (`extract(epoch ...)`), so that ties
 * and near-ties are not blurred by JavaScript's millisecond dates.
 */
import type { BenchDatabase } from './bench-db.ts';

/** One token of a performance, instants in µs since the epoch (null when not reached). */
export interface TokenTimeline {
  tokenId: string;
  ticket: number;
  status: string;
  joinedUs: number;
  admittedUs: number | null;
  endedUs: number | null;
  endReason: string | null;
}

/** Every token of `performanceId`, by ticket. */
export async function loadTokenTimeline(db: BenchDatabase, performanceId: number): Promise<TokenTimeline[]> {
  const us = (column: string) => `(extract(epoch from ${column}) * 1000000)::bigint::text as ${column}`;
  const rows = await db.query<{ id: string; ticket: string; status: string; joined_at: string; admitted_at: string | null; ended_at: string | null; end_reason: string | null }>(
    `select id, ticket::text, status, ${us('joined_at')}, ${us('admitted_at')}, ${us('ended_at')}, end_reason
     from queue_tokens where performance_id = $1 order by ticket`,
    [performanceId],
  );
  const num = (v: string | null) => (v === null ? null : Number(v));
  return rows.map((r) => ({ tokenId: r.id, ticket: Number(r.ticket), status: r.status, joinedUs: Number(r.joined_at), admittedUs: num(r.admitted_at), endedUs: num(r.ended_at), endReason: r.end_reason }));
}

/**
 * The most tokens ACTIVE at one instant: a sweep over the intervals `[admitted_at,
 * ended_at)` (an end at the same instant as an admission counts first; a token not ended
 * is active to the end). Tokens never admitted do not count.
 */
export function maxConcurrentActive(tokens: readonly TokenTimeline[]): number {
  const events: [number, number][] = [];
  for (const t of tokens) {
    if (t.admittedUs === null) continue;
    events.push([t.admittedUs, +1]);
    if (t.endedUs !== null) events.push([t.endedUs, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let active = 0;
  let max = 0;
  for (const [, delta] of events) {
    active += delta;
    max = Math.max(max, active);
  }
  return max;
}

/**
 * Admissions out of arrival order: admitted tokens whose `admitted_at` is earlier than that
 * of an admitted token with a smaller ticket, plus tokens still WAITING with a ticket
 * smaller than the last admitted one. 0 when the queue is strictly FIFO.
 */
export function admissionOrderViolations(tokens: readonly TokenTimeline[]): number {
  let violations = 0;
  let latest = -Infinity;
  let lastAdmittedTicket = -Infinity;
  for (const t of [...tokens].sort((a, b) => a.ticket - b.ticket)) {
    if (t.admittedUs === null) continue;
    if (t.admittedUs < latest) violations += 1;
    latest = Math.max(latest, t.admittedUs);
    lastAdmittedTicket = t.ticket;
  }
  return violations + tokens.filter((t) => t.status === 'WAITING' && t.ticket < lastAdmittedTicket).length;
}

/** The admissions that took a slot freed while tokens waited, and how long each slot stayed free. */
export interface SlotHandOver {
  /** Per such admission: `admitted_at` minus the freeing `ended_at`, in ms (negative: a cap breach). */
  latenciesMs: number[];
  /** Admitted at `joined_at`/first fill, or into a slot freed while nobody waited (not counted). */
  uncounted: number;
}

/**
 * Matches each admission with the slot it took: the first `activeLimit` admissions fill
 * the empty slots; after that the k-th admission (in `admitted_at` order) takes the slot
 * the k-th end (in `ended_at` order) freed. An admission counts when its token had joined
 * by the time that slot was freed (the queue had a waiting token then); its latency is
 * `admitted_at - ended_at`.
 */
export function slotHandOvers(tokens: readonly TokenTimeline[], activeLimit: number): SlotHandOver {
  const admitted = tokens.filter((t) => t.admittedUs !== null).sort((a, b) => a.admittedUs! - b.admittedUs! || a.ticket - b.ticket);
  const ends = admitted.map((t) => t.endedUs).filter((e): e is number => e !== null).sort((a, b) => a - b);
  const latenciesMs: number[] = [];
  let uncounted = 0;
  admitted.forEach((t, i) => {
    const freedAt = i < activeLimit ? undefined : ends[i - activeLimit];
    if (freedAt === undefined || t.joinedUs > freedAt) {
      uncounted += 1;
      return;
    }
    latenciesMs.push((t.admittedUs! - freedAt) / 1000);
  });
  return { latenciesMs, uncounted };
}

/** Admission rate of a performance, tokens/s, and the window it is measured over. */
export interface AdmissionRate {
  /** From the first slot freed to the last admission into a freed slot, in s. */
  windowS: number;
  /** Admissions into freed slots within the window, per s. */
  admittedPerS: number;
  /** The window's edges, µs since the epoch (null when no slot was ever handed over). */
  fromUs: number | null;
  toUs: number | null;
}

/**
 * How fast tokens were admitted once the first `activeLimit` had filled the slots:
 * admissions after the first fill, over the span from the first end to the last admission.
 */
export function admissionRate(tokens: readonly TokenTimeline[], activeLimit: number): AdmissionRate {
  const admitted = tokens.map((t) => t.admittedUs).filter((a): a is number => a !== null).sort((a, b) => a - b);
  // Only an admitted token's end frees a slot (a WAITING token cancelled ends without one).
  const firstEnd = tokens.reduce((min, t) => (t.admittedUs !== null && t.endedUs !== null ? Math.min(min, t.endedUs) : min), Infinity);
  const later = admitted.slice(activeLimit);
  if (later.length === 0 || !Number.isFinite(firstEnd)) return { windowS: 0, admittedPerS: 0, fromUs: null, toUs: null };
  const toUs = later.at(-1)!;
  const windowS = Math.max(1e-6, (toUs - firstEnd) / 1e6);
  return { windowS: round(windowS, 2), admittedPerS: round(later.length / windowS, 1), fromUs: firstEnd, toUs };
}

/** When each reservation of `performanceId` was confirmed, µs since the epoch, ascending. */
export async function loadConfirmations(db: BenchDatabase, performanceId: number): Promise<number[]> {
  const rows = await db.query<{ at: string }>(
    `select (extract(epoch from confirmed_at) * 1000000)::bigint::text as at from reservations
     where performance_id = $1 and status = 'CONFIRMED' order by confirmed_at`,
    [performanceId],
  );
  return rows.map((r) => Number(r.at));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

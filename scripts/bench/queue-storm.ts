/**
 * The join storm of the waiting-queue benchmark: every user joins one performance's queue
 * (`POST /queue/tokens`) in an open loop, at a fixed arrival rate whatever the answers,
 * latency counted from the moment each join was due (no coordinated omission). What the
 * answers say is checked here (statuses, latency, FIFO of tickets and positions); what
 * the token table says, in queue-table.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { isFailure, joinQueue, type QueueTokenAnswer } from './queue-client.ts';
import { queueLatency, type QueueLatency } from './stats.ts';

/** What one join gave. Times in ms from the load's origin. */
export interface JoinSample {
  userId: number;
  dueMs: number;
  answeredMs: number;
  /** The answer's status, 0 without one (transport error). */
  httpStatus: number;
  token?: QueueTokenAnswer;
  /** `<status> <problem code>` or the transport error, when the answer was not 200/201. */
  failure?: string;
}

/**
 * Calls `arrive(i, dueMs)` for i = 0..count-1 at `rate` per second from now (`dueMs`: its
 * due time in ms from the returned origin), without waiting for earlier arrivals; resolves
 * when all have settled or `drainMs` after the last was due, with how many were still
 * running then (abandoned). `progress` gets a line about once a second.
 */
export async function openLoopArrivals(
  count: number,
  rate: number,
  arrive: (i: number, dueMs: number, origin: number) => Promise<void>,
  drainMs: number,
  progress?: (line: string) => void,
): Promise<{ unfinished: number }> {
  const origin = performance.now();
  const running = new Set<Promise<void>>();
  let settled = 0;
  const timer = progress && setInterval(() => progress(`  ${((performance.now() - origin) / 1000).toFixed(0).padStart(3)} s  settled ${settled}/${count}  in flight ${running.size}`), 1000);
  timer?.unref();
  for (let i = 0; i < count; i++) {
    const due = (i * 1000) / rate;
    const wait = due - (performance.now() - origin);
    if (wait > 1) await sleep(wait);
    const p: Promise<void> = arrive(i, due, origin).finally(() => {
      settled += 1;
      running.delete(p);
    });
    running.add(p);
  }
  await Promise.race([Promise.all(running), sleep(drainMs)]);
  clearInterval(timer);
  return { unfinished: running.size };
}

/** Joins `performanceId` as each of `userIds` at `rate` per second; the samples in arrival order. */
export async function joinInOpenLoop(
  pool: Pool,
  options: { performanceId: number; userIds: readonly number[]; tokens: ReadonlyMap<number, string>; rate: number; drainMs: number; progress?: (line: string) => void },
): Promise<{ samples: JoinSample[]; unanswered: number }> {
  const samples: JoinSample[] = [];
  const { unfinished } = await openLoopArrivals(
    options.userIds.length,
    options.rate,
    async (i, dueMs, origin) => {
      const userId = options.userIds[i]!;
      const answer = await joinQueue(pool, options.tokens.get(userId)!, options.performanceId);
      const answeredMs = performance.now() - origin;
      if (isFailure(answer)) samples.push({ userId, dueMs, answeredMs, httpStatus: Number(answer.code.split(' ')[0]) || 0, failure: answer.code });
      else samples.push({ userId, dueMs, answeredMs, httpStatus: answer.httpStatus, token: answer });
    },
    options.drainMs,
    options.progress,
  );
  return { samples, unanswered: unfinished };
}

/** What the answers of a join storm say. */
export interface JoinAnswers {
  sent: number;
  /** Joins answered 200 or 201 with a token. */
  answered: number;
  /** Still unanswered when the loop gave up on them. */
  unanswered: number;
  /** HTTP status (`0`: no answer) -> joins. */
  httpStatuses: Record<string, number>;
  /** Token status of the answers -> joins. */
  tokenStatuses: Record<string, number>;
  /** Failure (`<status> <code>` or transport error) -> joins. */
  failures: Record<string, number>;
  /** From due to answer, ms, every answer (failures included). */
  http: QueueLatency;
  /** Answers per second from the first join due to the last answer (below the arrival rate: the server fell behind). */
  servedPerS: number;
  fifo: FifoCheck;
}

/** The FIFO check of the answers. */
export interface FifoCheck {
  /** Tickets answered more than once (for different tokens). */
  duplicateTickets: number;
  /** WAITING answers considered. */
  waitingAnswers: number;
  /** Adjacent WAITING answers (in ticket order) whose position did not grow with the ticket. */
  positionInversions: number;
}

/** Summarizes the samples of a storm (`unanswered`: joins abandoned without an answer). */
export function analyzeJoins(samples: readonly JoinSample[], unanswered: number): JoinAnswers {
  const tokens = samples.map((s) => s.token).filter((t): t is QueueTokenAnswer => t !== undefined);
  return {
    sent: samples.length + unanswered,
    answered: tokens.length,
    unanswered,
    httpStatuses: tallies(samples.map((s) => String(s.httpStatus))),
    tokenStatuses: tallies(tokens.map((t) => t.status)),
    failures: tallies(samples.filter((s) => s.failure).map((s) => s.failure!)),
    http: queueLatency(samples.map((s) => s.answeredMs - s.dueMs)),
    servedPerS: servedPerSecond(samples),
    fifo: fifoCheck(tokens),
  };
}

/** Answers per second over the span from the first due join to the last answer; 0 without answers. */
function servedPerSecond(samples: readonly JoinSample[]): number {
  if (samples.length === 0) return 0;
  const first = samples.reduce((m, s) => Math.min(m, s.dueMs), Infinity);
  const last = samples.reduce((m, s) => Math.max(m, s.answeredMs), -Infinity);
  return Math.round(samples.length / Math.max(0.001, (last - first) / 1000));
}

/** Tickets unique per token; among WAITING answers in ticket order, positions strictly growing. */
export function fifoCheck(tokens: readonly QueueTokenAnswer[]): FifoCheck {
  const tokenOfTicket = new Map<number, string>();
  let duplicateTickets = 0;
  for (const t of tokens) {
    const seen = tokenOfTicket.get(t.ticket);
    if (seen !== undefined && seen !== t.tokenId) duplicateTickets += 1;
    tokenOfTicket.set(t.ticket, t.tokenId);
  }
  const waiting = tokens.filter((t) => t.status === 'WAITING' && typeof t.position === 'number').sort((a, b) => a.ticket - b.ticket);
  let positionInversions = 0;
  for (let i = 1; i < waiting.length; i++) if (waiting[i]!.position! <= waiting[i - 1]!.position!) positionInversions += 1;
  return { duplicateTickets, waitingAnswers: waiting.length, positionInversions };
}

/** How many times each value occurs. */
export function tallies(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

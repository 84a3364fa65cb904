/**
 * The drain of the waiting-queue benchmark: a stream of users, each of whom joins one
 * performance's queue (open loop), reads their token until it is ACTIVE, holds one seat
 * of their own with it and pays: the queue empties at the pace at which reservation sagas
 * complete and free their slots. A client that fails gives its reservation and token back,
 * so its slot is not lost to the others.
 *
 * Polling: a client near the front (estimated wait under three times {@link POLL_NEAR_MS})
 * reads its token every {@link POLL_NEAR_MS}; further back it waits a third of its
 * estimated wait (at most {@link POLL_FAR_MS}), as a waiting-room page would: with everybody at
 * 200 ms, 1,000 waiting users alone would send 5,000 reads/s, more than the two cores
 * this benchmark runs on can answer next to the sagas it is meant to measure. The
 * estimate is the smaller of the API's `estimatedWaitSeconds` and the client's own: its
 * position over the speed at which it last moved, or before it has moved
 * {@link FALLBACK_SECONDS_PER_POSITION} per position.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { cancelQueueToken, cancelReservation, holdSeat, isFailure, joinQueue, payReservation, readQueueToken, type QueueTokenAnswer } from './queue-client.ts';
import { openLoopArrivals } from './queue-storm.ts';

/** How often a client near the front reads its token, ms. */
export const POLL_NEAR_MS = 200;
/** The longest pause between two reads of a token, ms. */
export const POLL_FAR_MS = 5_000;
/** The wait per position a client assumes before it knows better, s. */
const FALLBACK_SECONDS_PER_POSITION = 0.05;

/** What one drain client went through. Instants in ms since the epoch (sub-ms), durations in ms. */
export interface DrainClient {
  userId: number;
  tokenId?: string;
  /** When its join was answered. */
  joinedAt?: number;
  /** When it first read its token ACTIVE. */
  sawActiveAt?: number;
  /** POST /reservations until the seat was held. */
  holdMs?: number;
  /** POST /reservations/:id/payment until CONFIRMED. */
  payMs?: number;
  confirmedAt?: number;
  /** Reads of its token (GET /queue/tokens/:id). */
  polls: number;
  /** Why it stopped short of CONFIRMED (`<status> <code>`, transport error, or a timeout). */
  failure?: string;
}

/** Settings of a drain. */
export interface DrainOptions {
  performanceId: number;
  userIds: readonly number[];
  /** Drain user i holds `seatIds[i]`. */
  seatIds: readonly number[];
  tokens: ReadonlyMap<number, string>;
  /** Joins per second. */
  rate: number;
  /** When clients still waiting give up (and cancel), ms since the epoch. */
  deadline: number;
  progress?: (line: string) => void;
}

/** Epoch milliseconds with sub-millisecond precision (comparable with the database's microsecond instants). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The pause before a WAITING client reads its token again, in ms: a third of its estimated
 * wait, between {@link POLL_NEAR_MS} and {@link POLL_FAR_MS}. `rate` is how fast its
 * position last moved, positions/s (undefined until it has moved).
 */
export function pollDelayMs(token: QueueTokenAnswer, rate: number | undefined): number {
  const position = token.position ?? 1;
  let waitS = rate !== undefined && rate > 0 ? position / rate : position * FALLBACK_SECONDS_PER_POSITION;
  // Before any admission the API assumes every ACTIVE token keeps its slot for the whole active period: an upper bound.
  if (typeof token.estimatedWaitSeconds === 'number' && token.estimatedWaitSeconds > 0) waitS = Math.min(waitS, token.estimatedWaitSeconds);
  return Math.min(POLL_FAR_MS, Math.max(POLL_NEAR_MS, (waitS * 1000) / 3));
}

/** Reads the token until it is ACTIVE; a failure when it ends otherwise or at the deadline. */
async function waitUntilActive(pool: Pool, bearer: string, first: QueueTokenAnswer, client: DrainClient, deadline: number): Promise<true | string> {
  let token = first;
  let lastMove = { position: first.position ?? 0, at: epochMs() };
  let rate: number | undefined;
  while (token.status === 'WAITING') {
    if (epochMs() > deadline) return 'still waiting at the deadline';
    await sleep(pollDelayMs(token, rate));
    const read = await readQueueToken(pool, bearer, token.tokenId);
    client.polls += 1;
    // A read that failed is retried at the next poll; only the deadline ends the wait.
    if (isFailure(read)) continue;
    token = read;
    const now = epochMs();
    if (token.position !== null && token.position < lastMove.position) {
      rate = (lastMove.position - token.position) / ((now - lastMove.at) / 1000);
      lastMove = { position: token.position, at: now };
    }
  }
  return token.status === 'ACTIVE' ? true : `token ${token.status} while waiting`;
}

/** One user's whole visit: join, wait, hold, pay; gives back what it holds when a step fails. */
async function visit(pool: Pool, options: DrainOptions, i: number): Promise<DrainClient> {
  const userId = options.userIds[i]!;
  const bearer = options.tokens.get(userId)!;
  const client: DrainClient = { userId, polls: 0 };
  const joined = await joinQueue(pool, bearer, options.performanceId);
  if (isFailure(joined)) return { ...client, failure: `join: ${joined.code}` };
  client.tokenId = joined.tokenId;
  client.joinedAt = epochMs();
  const active = await waitUntilActive(pool, bearer, joined, client, options.deadline);
  if (active !== true) {
    await cancelQueueToken(pool, bearer, joined.tokenId);
    return { ...client, failure: active };
  }
  client.sawActiveAt = epochMs();
  const held = await holdSeat(pool, bearer, joined.tokenId, options.performanceId, options.seatIds[i]!);
  client.holdMs = epochMs() - client.sawActiveAt;
  if (isFailure(held)) {
    await cancelQueueToken(pool, bearer, joined.tokenId);
    return { ...client, failure: `hold: ${held.code}` };
  }
  const payStart = epochMs();
  const paid = await payReservation(pool, bearer, joined.tokenId, held.reservationId);
  client.payMs = epochMs() - payStart;
  if (isFailure(paid)) {
    await cancelReservation(pool, bearer, held.reservationId);
    await cancelQueueToken(pool, bearer, joined.tokenId);
    return { ...client, failure: `pay: ${paid.code}` };
  }
  client.confirmedAt = epochMs();
  return client;
}

/**
 * Runs the drain: user i arrives at i / `rate` s and visits; resolves when every client is
 * done (or 60 s after the deadline, the stragglers abandoned), with the clients in
 * arrival order (an abandoned one has `failure` 'abandoned').
 */
export async function runDrain(pool: Pool, options: DrainOptions): Promise<DrainClient[]> {
  const clients: DrainClient[] = options.userIds.map((userId) => ({ userId, polls: 0, failure: 'abandoned' }));
  const lastDue = (options.userIds.length * 1000) / options.rate;
  const drainMs = Math.max(0, options.deadline - epochMs() - lastDue) + 60_000;
  await openLoopArrivals(
    options.userIds.length,
    options.rate,
    async (i) => {
      clients[i] = await visit(pool, options, i);
    },
    drainMs,
    options.progress,
  );
  return clients;
}

/**
 * Hot seats: 100 concurrent `POST /reservations` for 2–3 random seats each among the 10
 * seats of one performance (seeded, so a failure can be replayed), on the whole stack.
 * Holds are decided in the database (seat rows locked in id order, all or none), so no
 * seat is ever held twice, every winner holds all of its seats, every loser is refused
 * 409 SeatUnavailable on a seat a winner holds and holds nothing. Cancelling the winners
 * frees all 10 seats; the invariants hold while the seats are held and at the end.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { reservationWorkflowId } from '../../common/ids.ts';
import { checkInvariants, formatInvariantReport, type InvariantReport } from '../../invariants/index.ts';
import { createPerformance, createUser, seatStates } from '../helpers/db.ts';
import { callApi, startStack, type TestStack } from '../helpers/stack.ts';
import { prng } from '../../scripts/bench/order-mix.ts';
import { awaitReservationEventsDelivered } from '../helpers/outbox.ts';

const SEATS = 10;
const REQUESTS = 100;
/** One request per user: a user's queue token admits one PENDING reservation at a time, and the race is about seats. */
const USERS = REQUESTS;
const SEED = 20261121;

let stack: TestStack;

beforeAll(async () => {
  // Long enough that every POST answers with its hold outcome (201 or 409), never 202.
  stack = await startStack({ env: { ORDER_OUTCOME_WAIT_MS: '60000' } });
});

afterAll(async () => {
  await stack?.close();
});

/** `count` distinct elements of `from`, sorted ascending. */
function pick(random: () => number, from: readonly number[], count: number): number[] {
  const pool = [...from];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count).sort((a, b) => a - b);
}

function assertInvariants(report: InvariantReport): void {
  if (!report.ok) throw new Error(`invariants broken:\n${formatInvariantReport(report)}`);
}

describe('hot seats', () => {
  it('holds each seat for at most one of 100 racing reservations; losers hold nothing; cancelling frees every seat', async () => {
    const { performanceId, seatIds } = await createPerformance(stack.orm, SEATS, 10_000);
    const userIds: number[] = [];
    for (let i = 0; i < USERS; i++) userIds.push(await createUser(stack.orm, 0));
    const random = prng(SEED);
    const requests = Array.from({ length: REQUESTS }, (_, i) => ({
      userId: userIds[i % USERS]!,
      performanceId,
      seatIds: pick(random, seatIds, random() < 0.5 ? 2 : 3),
      holdSeconds: 600,
    }));

    const started = Date.now();
    const answers = await Promise.all(requests.map((body) => callApi(stack, 'POST', '/reservations', body)));
    const holdMs = Date.now() - started;

    expect(answers.map((a) => a.status).filter((s) => s !== 201 && s !== 409)).toEqual([]);
    const winners = answers.flatMap((a, i) => (a.status === 201 ? [{ id: a.body.reservationId as string, seatIds: requests[i]!.seatIds }] : []));
    const losers = answers.flatMap((a, i) => (a.status === 409 ? [{ body: a.body, seatIds: requests[i]!.seatIds }] : []));
    expect(winners.length).toBeGreaterThan(0);
    for (const w of answers.filter((a) => a.status === 201)) expect(w.body.status).toBe('PENDING');

    // No seat held twice: the winners' seats are disjoint, so at most 10 in all.
    const held = winners.flatMap((w) => w.seatIds);
    expect(new Set(held).size).toBe(held.length);
    expect(held.length).toBeLessThanOrEqual(SEATS);

    // Each winner holds all of its seats; every held seat belongs to a winner.
    const states = await seatStates(stack.orm, seatIds);
    const holderOf = new Map(states.map((s) => [s.id, s]));
    for (const w of winners) {
      for (const seatId of w.seatIds) expect(holderOf.get(seatId)).toEqual({ id: seatId, status: 'HELD', reservationId: w.id });
    }
    const winnerIds = new Set(winners.map((w) => w.id));
    for (const s of states) {
      if (s.status === 'AVAILABLE') continue;
      expect(s.status).toBe('HELD');
      expect(winnerIds.has(s.reservationId!)).toBe(true);
    }

    // Each loser was refused on seats a winner holds, and holds nothing.
    const loserIds = losers.map((l) => l.body.reservationId as string);
    for (const l of losers) {
      expect(l.body.code).toBe('SeatUnavailable');
      const unavailable: number[] = l.body.seatIds;
      expect(unavailable.length).toBeGreaterThan(0);
      for (const seatId of unavailable) {
        expect(l.seatIds).toContain(seatId);
        expect(held).toContain(seatId);
      }
    }
    expect(states.filter((s) => s.reservationId !== null && loserIds.includes(s.reservationId))).toEqual([]);

    const scope = { performanceIds: [performanceId], userIds };
    await awaitReservationEventsDelivered(stack.orm, performanceId);
    assertInvariants(await checkInvariants(stack.orm, { scope, receivedEvents: stack.dataPlatform.events(), allowInFlight: false }));

    // Cancel the winners and let every saga finish.
    const cancels = await Promise.all(winners.map((w) => callApi(stack, 'DELETE', `/reservations/${w.id}`)));
    expect(cancels.map((c) => c.status).filter((s) => s !== 202 && s !== 200)).toEqual([]);
    const results = await Promise.all(
      [...winners.map((w) => w.id), ...loserIds].map(
        (id) => stack.env.client.workflow.getHandle(reservationWorkflowId(id)).result() as Promise<{ status: string }>,
      ),
    );
    const elapsed = Date.now() - started;
    expect(results.map((r) => r.status)).toEqual(results.map(() => 'CANCELLED'));

    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(seatIds.map(() => 'AVAILABLE'));
    const rows = await stack.orm.em.fork().execute<{ status: string; reason: string | null; n: number }[]>(
      `select status, reason, count(*)::int as n from reservations where performance_id = ? group by status, reason order by reason`,
      [performanceId],
    );
    expect(rows).toEqual(
      [
        { status: 'CANCELLED', reason: 'ReservationCancelled', n: winners.length },
        { status: 'CANCELLED', reason: 'SeatUnavailable', n: losers.length },
      ].filter((r) => r.n > 0),
    );
    await awaitReservationEventsDelivered(stack.orm, performanceId);
    assertInvariants(await checkInvariants(stack.orm, { scope, receivedEvents: stack.dataPlatform.events(), allowInFlight: false }));

    console.log(
      `hot-seats: sagas=${REQUESTS} held=${winners.length} (seats ${held.length}/${SEATS}) refused=${losers.length} ` +
        `cancelled=${results.length} seed=${SEED} holdMs=${holdMs} ms=${elapsed}`,
    );
  });
});

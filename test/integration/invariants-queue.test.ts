/**
 * The invariant checker's waiting-queue checks, each against a violation planted with SQL
 * in a fresh performance (tokens written with chosen timestamps, behind db/queue.ts's
 * back): more tokens active at one instant than the limit, a token admitted ahead of a
 * smaller ticket still waiting, a counter that miscounts its WAITING tokens, a token ACTIVE
 * long past its activeUntil, a CONFIRMED reservation whose token is not EXPIRED or not its
 * own. A queue run by the real code (join, admit, cancel, a paid reservation) passes every
 * check. Scoped to this suite's performances.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { confirmedEventId, reservationWorkflowId, stepKey } from '../../common/ids.ts';
import type { QueueSettings } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { admitPerformance } from '../../db/queue.ts';
import { cancelQueueToken, joinQueue } from '../../db/queue-tokens.ts';
import { QUEUE_CHECK_NAMES, type CheckName, type InvariantReport, type InvariantScope } from '../../invariants/index.ts';
import { createPerformance, createUser, openTestOrm } from '../helpers/db.ts';
import { expectOk, SagaRows, violationsOf } from '../helpers/saga-rows.ts';

let orm: Orm;
let sagas: SagaRows;

beforeAll(async () => {
  orm = await openTestOrm();
  sagas = new SagaRows(orm);
});

afterAll(async () => {
  await orm?.close();
});

const QUEUE_CHECKS: readonly CheckName[] = QUEUE_CHECK_NAMES;

const NONE = Object.fromEntries(QUEUE_CHECKS.map((name) => [name, []]));

/** The queue checks' violations, by check (empty arrays when they pass). */
function queueViolations(report: InvariantReport) {
  return Object.fromEntries(QUEUE_CHECKS.map((name) => [name, violationsOf(report, name)]));
}

/** NONE, but for `name`'s `violations`. */
function only(name: CheckName, violations: unknown[]) {
  return { ...NONE, [name]: violations };
}

/** Checks the invariants on `scope` with the queue's limit `activeLimit`. */
function check(scope: InvariantScope, activeLimit: number, overdueGraceMs?: number): Promise<InvariantReport> {
  return sagas.check(scope, { receivedEvents: sagas.events(), queue: { activeLimit, overdueGraceMs } });
}

/** An instant `seconds` from now (negative: in the past). */
function at(seconds: number): Date {
  return new Date(Date.now() + seconds * 1000);
}

/** A token as planted: its ticket, status and instants (end reason follows from the status unless given). */
interface Planted {
  ticket: number;
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED' | 'CANCELLED';
  admittedAt?: Date;
  activeUntil?: Date;
  endedAt?: Date;
  endReason?: 'PAID' | 'TIMED_OUT' | 'CANCELLED';
}

/**
 * A fresh performance whose queue holds `tokens` (each of a new user), with a counter
 * that counts them right; returns the performance and the token ids in the given order.
 */
async function plantedQueue(tokens: Planted[]): Promise<{ performanceId: number; tokenIds: string[]; userIds: number[] }> {
  const { performanceId } = await createPerformance(orm, 1);
  const waiting = tokens.filter((t) => t.status === 'WAITING').length;
  const lastTicket = Math.max(0, ...tokens.map((t) => t.ticket));
  await sagas.sql('insert into queue_counters (performance_id, last_ticket, waiting) values (?, ?, ?)', [performanceId, lastTicket, waiting]);
  const tokenIds: string[] = [];
  const userIds: number[] = [];
  for (const t of tokens) {
    const id = randomUUID();
    const userId = await createUser(orm, 0);
    const endReason = t.endReason ?? (t.status === 'EXPIRED' ? 'TIMED_OUT' : t.status === 'CANCELLED' ? 'CANCELLED' : null);
    const activeUntil = t.activeUntil ?? (t.admittedAt ? new Date(t.admittedAt.getTime() + 600_000) : null);
    await sagas.sql(
      `insert into queue_tokens (id, performance_id, user_id, ticket, status, joined_at, admitted_at, active_until, ended_at, end_reason)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, performanceId, userId, t.ticket, t.status, at(-3_600 + t.ticket), t.admittedAt ?? null, activeUntil, t.endedAt ?? null, endReason],
    );
    tokenIds.push(id);
    userIds.push(userId);
  }
  return { performanceId, tokenIds, userIds };
}

/** A reservation of `seatIds` admitted by `queueTokenId`, held, paid, confirmed and notified by the activities. */
async function paidReservation(userId: number, performanceId: number, seatIds: number[], queueTokenId: string) {
  const reservationId = randomUUID();
  const workflowId = reservationWorkflowId(reservationId);
  const created = await sagas.acts.createReservation({
    reservationId, userId, performanceId, seatIds, queueTokenId,
    holdExpiresAt: at(3_600).toISOString(), workflowId, requestHash: 'h',
  });
  await sagas.acts.holdSeats({ reservationId });
  await sagas.acts.payWithPoints({ userId, amountPoints: created.totalWon, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
  await sagas.acts.confirmReservation({ reservationId });
  await sagas.acts.notifyDataPlatform({
    sagaId: workflowId,
    event: { eventId: confirmedEventId(workflowId), type: 'reservation.confirmed', occurredAt: new Date().toISOString(), payload: {} },
  });
  return reservationId;
}

const SETTINGS: QueueSettings = { activeLimit: 2, activeMs: 600_000 };

/** The user joins the performance's queue as the API does. */
function join(performanceId: number, userId: number) {
  return joinQueue(orm, { performanceId, userId, newTokenId: randomUUID() }, SETTINGS);
}

describe('the queue checks on a queue run by db/queue.ts', () => {
  it('pass after joins, admissions, a cancellation and a paid reservation, and skip the cap without a limit', async () => {
    const { performanceId, seatIds } = await createPerformance(orm, 2, 10_000);
    const users = [await createUser(orm, 50_000), await createUser(orm, 0), await createUser(orm, 0), await createUser(orm, 0), await createUser(orm, 0)];
    const joined: Awaited<ReturnType<typeof join>>[] = [];
    for (const userId of users) joined.push(await join(performanceId, userId));
    expect(joined.map((j) => j.token.status)).toEqual(['ACTIVE', 'ACTIVE', 'WAITING', 'WAITING', 'WAITING']);

    await orm.em.fork().transactional((em) => cancelQueueToken(em, joined[3]!.token.id, SETTINGS));
    await paidReservation(users[0]!, performanceId, seatIds.slice(0, 1), joined[0]!.token.id);
    const pass = await orm.em.fork().transactional((em) => admitPerformance(em, performanceId, SETTINGS));
    expect(pass.admitted).toEqual([joined[2]!.token.id]);
    await orm.em.fork().transactional((em) => cancelQueueToken(em, joined[1]!.token.id, SETTINGS));

    const report = await check({ performanceIds: [performanceId] }, SETTINGS.activeLimit);
    await expectOk(report);
    expect(report.checks.filter((c) => QUEUE_CHECKS.includes(c.name)).map((c) => [c.name, c.skipped])).toEqual(QUEUE_CHECKS.map((name) => [name, undefined]));
    const unlimited = await sagas.check({ performanceIds: [performanceId] }, {});
    expect(unlimited.checks.find((c) => c.name === 'queue-tokens-within-active-limit')?.skipped).toBe('no active limit given (queue.activeLimit)');
  });
});

describe('queue-tokens-within-active-limit', () => {
  it('finds the instant more tokens were active than the limit, naming them; an end and a start at one instant do not overlap', async () => {
    const [t0, t1, t2] = [at(-600), at(-500), at(-400)];
    const q = await plantedQueue([
      { ticket: 1, status: 'EXPIRED', admittedAt: t0, endedAt: t1, endReason: 'PAID' },
      { ticket: 2, status: 'ACTIVE', admittedAt: t0 },
      { ticket: 3, status: 'ACTIVE', admittedAt: t1 },
      { ticket: 4, status: 'CANCELLED', admittedAt: t2, endedAt: at(-300) },
    ]);
    expect(queueViolations(await check({ performanceIds: [q.performanceId] }, 3))).toEqual(NONE);
    expect(queueViolations(await check({ performanceIds: [q.performanceId] }, 2))).toEqual(only('queue-tokens-within-active-limit', [
      expect.objectContaining({
        ids: { performanceId: q.performanceId, tokenIds: [q.tokenIds[1], q.tokenIds[2], q.tokenIds[3]] },
        expected: 'at most 2 active at once',
        found: `3 active at ${t2.toISOString()}`,
      }),
    ]));
  });
});

describe('queue-tokens-admitted-in-ticket-order', () => {
  it('finds a token admitted while a smaller ticket still waits', async () => {
    const q = await plantedQueue([
      { ticket: 1, status: 'WAITING' },
      { ticket: 2, status: 'ACTIVE', admittedAt: at(-60) },
    ]);
    expect(queueViolations(await check({ performanceIds: [q.performanceId] }, 5))).toEqual(only('queue-tokens-admitted-in-ticket-order', [
      expect.objectContaining({
        ids: { performanceId: q.performanceId, tokenId: q.tokenIds[1], ticket: 2, waitingTokenId: q.tokenIds[0], waitingTicket: 1 },
        found: expect.stringContaining('while ticket 1 waited (now WAITING)'),
      }),
    ]));
  });

  it('counts a token cancelled while WAITING until its ended_at only', async () => {
    const admittedAt = at(-60);
    const before = await plantedQueue([
      { ticket: 1, status: 'CANCELLED', endedAt: at(-120) },
      { ticket: 2, status: 'ACTIVE', admittedAt },
    ]);
    expect(queueViolations(await check({ performanceIds: [before.performanceId] }, 5))).toEqual(NONE);

    const after = await plantedQueue([
      { ticket: 1, status: 'CANCELLED', endedAt: at(-30) },
      { ticket: 2, status: 'ACTIVE', admittedAt },
      { ticket: 3, status: 'ACTIVE', admittedAt },
    ]);
    expect(queueViolations(await check({ performanceIds: [after.performanceId] }, 5))).toEqual(only('queue-tokens-admitted-in-ticket-order', [
      expect.objectContaining({ ids: expect.objectContaining({ tokenId: after.tokenIds[1], waitingTicket: 1 }), found: expect.stringContaining('(now CANCELLED)') }),
      expect.objectContaining({ ids: expect.objectContaining({ tokenId: after.tokenIds[2], waitingTicket: 1 }) }),
    ]));
  });
});

describe('queue-counters-count-waiting', () => {
  it('finds a counter that miscounts its WAITING tokens, and WAITING tokens without a counter', async () => {
    const q = await plantedQueue([{ ticket: 1, status: 'ACTIVE', admittedAt: at(-60) }, { ticket: 2, status: 'WAITING' }]);
    await sagas.sql('update queue_counters set waiting = 2 where performance_id = ?', [q.performanceId]);
    expect(queueViolations(await check({ performanceIds: [q.performanceId] }, 5))).toEqual(only('queue-counters-count-waiting', [
      expect.objectContaining({ ids: { performanceId: q.performanceId }, expected: 'waiting 1', found: 'waiting 2' }),
    ]));

    await sagas.sql('delete from queue_counters where performance_id = ?', [q.performanceId]);
    expect(queueViolations(await check({ performanceIds: [q.performanceId] }, 5))).toEqual(only('queue-counters-count-waiting', [
      expect.objectContaining({ ids: { performanceId: q.performanceId }, expected: 'waiting 1', found: 'no queue counter' }),
    ]));
  });
});

describe('queue-tokens-active-within-deadline', () => {
  it('finds a token ACTIVE longer than the grace past its activeUntil, and not one within it', async () => {
    const q = await plantedQueue([
      { ticket: 1, status: 'ACTIVE', admittedAt: at(-700), activeUntil: at(-100) },
      { ticket: 2, status: 'ACTIVE', admittedAt: at(-600), activeUntil: at(-2) },
    ]);
    expect(queueViolations(await check({ performanceIds: [q.performanceId] }, 5))).toEqual(only('queue-tokens-active-within-deadline', [
      expect.objectContaining({ ids: { performanceId: q.performanceId, tokenId: q.tokenIds[0] }, rule: 'a token ends within 6000 ms after its activeUntil' }),
    ]));
    expect(queueViolations(await check({ performanceIds: [q.performanceId] }, 5, 3_600_000))).toEqual(NONE);
  });
});

describe('confirmed-reservations-expire-their-tokens', () => {
  it('finds a CONFIRMED reservation whose token was CANCELLED, or is another user\'s', async () => {
    const { performanceId, seatIds } = await createPerformance(orm, 1, 10_000);
    const userId = await createUser(orm, 10_000);
    const { token } = await join(performanceId, userId);
    const reservationId = await paidReservation(userId, performanceId, seatIds, token.id);
    const scope = { userIds: [userId] };
    expect(queueViolations(await check(scope, 2))).toEqual(NONE);

    await sagas.sql(`update queue_tokens set status = 'CANCELLED', end_reason = 'CANCELLED' where id = ?`, [token.id]);
    expect(queueViolations(await check(scope, 2))).toEqual(only('confirmed-reservations-expire-their-tokens', [
      expect.objectContaining({
        ids: { reservationId, tokenId: token.id },
        rule: 'a CONFIRMED reservation\'s queue token is EXPIRED',
        found: `token of user ${userId} for performance ${performanceId}, CANCELLED (CANCELLED)`,
      }),
    ]));

    const other = await plantedQueue([{ ticket: 1, status: 'EXPIRED', admittedAt: at(-60), endedAt: at(-30), endReason: 'PAID' }]);
    await sagas.sql('update reservations set queue_token_id = ? where id = ?', [other.tokenIds[0], reservationId]);
    expect(queueViolations(await check(scope, 2))).toEqual(only('confirmed-reservations-expire-their-tokens', [
      expect.objectContaining({
        ids: { reservationId, tokenId: other.tokenIds[0] },
        rule: 'a reservation\'s queue token is its user\'s for its performance',
        found: `token of user ${other.userIds[0]} for performance ${other.performanceId}, EXPIRED (PAID)`,
      }),
    ]));
  });
});

describe('scope', () => {
  it('reports a performance\'s queue only when it is in scope, also through its users', async () => {
    const broken = await plantedQueue([{ ticket: 1, status: 'WAITING' }, { ticket: 2, status: 'ACTIVE', admittedAt: at(-60) }]);
    const clean = await plantedQueue([{ ticket: 1, status: 'ACTIVE', admittedAt: at(-60) }]);
    expect(queueViolations(await check({ performanceIds: [clean.performanceId] }, 1))).toEqual(NONE);
    expect(violationsOf(await check({ userIds: [broken.userIds[0]!] }, 1), 'queue-tokens-admitted-in-ticket-order')).toHaveLength(1);
  });
});

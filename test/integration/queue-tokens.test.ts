/**
 * The waiting queue through the HTTP API (issue 15), with a cap of 2 ACTIVE tokens per
 * performance and no Temporal (joining and cancelling are local transactions; a client
 * that refuses every call proves no route reaches it): joining gives 201 ACTIVE while a
 * slot is free and nobody waits, else 201 WAITING with positions 1, 2, 3 in arrival
 * order and a wait estimate; joining again answers 200 with the same live token; the live
 * position moves up when a token ahead leaves, and cancelling an ACTIVE token admits the
 * next one in the same transaction; DELETE is idempotent and refused with 409
 * `QueueTokenInUse` while the token admits a PENDING reservation; every refusal (400,
 * 401, 403, 404, 409, 422) changes nothing. Last, the worker's admission driver admits the
 * next WAITING token when an ACTIVE one times out. Enforcement on holds and payments:
 * the reservation suites; the hostile-input suite sends the routes every odd input.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { startQueueAdmission } from '../../worker/queue-admission.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createPerformance, createUser } from '../helpers/db.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';
import { callApi, type ApiAnswer, type CallAs } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

let api: TestApi;
const temporalCalls: string[] = [];

beforeAll(async () => {
  api = await startTestApi({ env: { QUEUE_ACTIVE_LIMIT: '2', QUEUE_ACTIVE_SECONDS: '600' }, refusedCalls: temporalCalls });
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
  expect(temporalCalls).toEqual([]);
});

const call = (target: TestApi, method: string, path: string, as: CallAs, body?: unknown): Promise<ApiAnswer> =>
  callApi({ apiUrl: target.url }, method, path, body, {}, { as });
const join = (performanceId: number, as: CallAs, target = api) => call(target, 'POST', '/queue/tokens', as, { performanceId });
const read = (tokenId: string, as: CallAs, target = api) => call(target, 'GET', `/queue/tokens/${tokenId}`, as);
const cancel = (tokenId: string, as: CallAs) => call(api, 'DELETE', `/queue/tokens/${tokenId}`, as);

/** A new performance and `count` new users. */
async function newQueue(count: number): Promise<{ performanceId: number; users: number[] }> {
  const { performanceId } = await createPerformance(api.orm, 1);
  const users: number[] = [];
  for (let i = 0; i < count; i++) users.push(await createUser(api.orm, 0));
  return { performanceId, users };
}

/** `users` join the queue of `performanceId` one after the other; their 201 answers' bodies. */
async function joinAll(performanceId: number, users: number[]): Promise<any[]> {
  const tokens: any[] = [];
  for (const user of users) {
    const res = await join(performanceId, user);
    expect(res.status).toBe(201);
    tokens.push(res.body);
  }
  return tokens;
}

/** Every queue row of `performanceId`: its counter and its tokens by ticket. */
async function queueRows(performanceId: number): Promise<unknown> {
  const em = api.orm.em.fork();
  return {
    counter: await em.execute('select last_ticket, waiting from queue_counters where performance_id = ?', [performanceId]),
    tokens: await em.execute(
      'select id, user_id, ticket, status, admitted_at, active_until, ended_at, end_reason from queue_tokens where performance_id = ? order by ticket',
      [performanceId],
    ),
  };
}

/** How many queue rows there are in all. */
async function queueRowCounts(): Promise<unknown> {
  return api.orm.em.fork().execute('select (select count(*) from queue_tokens) as tokens, (select count(*) from queue_counters) as counters');
}

describe('POST /queue/tokens', () => {
  it('admits the first joiners while slots are free, then lines the others up in arrival order', async () => {
    const { performanceId, users } = await newQueue(5);
    const tokens = await joinAll(performanceId, users);

    expect(tokens.map((t) => [t.userId, t.status, t.ticket, t.position])).toEqual([
      [users[0], 'ACTIVE', 1, 0],
      [users[1], 'ACTIVE', 2, 0],
      [users[2], 'WAITING', 3, 1],
      [users[3], 'WAITING', 4, 2],
      [users[4], 'WAITING', 5, 3],
    ]);
    const [first, , waiting] = tokens;
    expect(first).toEqual({
      tokenId: expect.any(String),
      performanceId,
      userId: users[0],
      status: 'ACTIVE',
      ticket: 1,
      position: 0,
      estimatedWaitSeconds: 0,
      activeUntil: expect.any(String),
      joinedAt: expect.any(String),
      admittedAt: expect.any(String),
      endedAt: null,
      endReason: null,
      links: { self: `/queue/tokens/${first.tokenId}` },
    });
    expect(Date.parse(first.activeUntil) - Date.parse(first.admittedAt)).toBe(600_000);
    expect(waiting).toMatchObject({ activeUntil: null, admittedAt: null, endedAt: null, endReason: null });
    // Two admissions in the last minute: one every 30 s.
    expect(tokens.map((t) => t.estimatedWaitSeconds)).toEqual([0, 0, 30, 60, 90]);
    expect(await queueRows(performanceId)).toMatchObject({ counter: [{ last_ticket: 5, waiting: 3 }] });
  });

  it('answers a repeated join with 200 and the same live token, and changes nothing', async () => {
    const { performanceId, users } = await newQueue(3);
    const tokens = await joinAll(performanceId, users);
    const before = await queueRows(performanceId);

    for (const [i, user] of users.entries()) {
      const again = await join(performanceId, user);
      expect(again.status).toBe(200);
      expect(again.headers.get('location')).toBe(`/queue/tokens/${tokens[i].tokenId}`);
      expect(again.body).toEqual(tokens[i]);
    }
    expect(await queueRows(performanceId)).toEqual(before);
  });

  it('gives a new token, at the back of the line, once the previous one ended', async () => {
    const { performanceId, users } = await newQueue(3);
    const [first] = await joinAll(performanceId, users);
    expect((await cancel(first.tokenId, users[0]!)).status).toBe(200);

    const rejoined = await join(performanceId, users[0]!);
    expect(rejoined.status).toBe(201);
    expect(rejoined.body).toMatchObject({ status: 'WAITING', ticket: 4, position: 1 });
    expect(rejoined.body.tokenId).not.toBe(first.tokenId);
  });

  it('estimates the wait from the cap and the active period when nobody was admitted in the last minute', async () => {
    const { performanceId, users } = await newQueue(5);
    await joinAll(performanceId, users.slice(0, 2));
    await api.orm.em.fork().execute(
      `update queue_tokens set joined_at = joined_at - interval '2 minutes', admitted_at = admitted_at - interval '2 minutes' where performance_id = ?`,
      [performanceId],
    );
    const waiting = await joinAll(performanceId, users.slice(2));
    // ceil(position / 2) active periods of 600 s.
    expect(waiting.map((t) => [t.position, t.estimatedWaitSeconds])).toEqual([[1, 600], [2, 600], [3, 1200]]);
  });

  it('refuses an unknown performance, a bad body, an operator and a missing token, and changes nothing', async () => {
    const { performanceId, users } = await newQueue(1);
    const user = users[0]!;
    const before = await queueRowCounts();

    const unknown = await join(2_147_483_647, user);
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ code: 'UnknownPerformance', performanceId: 2_147_483_647 });
    for (const body of [{}, { performanceId: 0 }, { performanceId: '1' }, { performanceId: 1.5 }, { performanceId, userId: user }, [performanceId]]) {
      const res = await call(api, 'POST', '/queue/tokens', user, body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'ValidationFailed' });
    }
    expect((await join(performanceId, 'operator')).body).toMatchObject({ status: 403, code: 'Forbidden' });
    expect((await join(performanceId, 'anonymous')).body).toMatchObject({ status: 401, code: 'AuthenticationRequired' });
    expect(await queueRowCounts()).toEqual(before);
  });
});

describe('GET /queue/tokens/:id', () => {
  it('shows the live position, which moves up as tokens ahead leave; an ACTIVE one leaving admits the next at once', async () => {
    const { performanceId, users } = await newQueue(5);
    const [a, , c, d, e] = await joinAll(performanceId, users);

    const cancelled = await cancel(a.tokenId, users[0]!);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ tokenId: a.tokenId, status: 'CANCELLED', endReason: 'CANCELLED', position: null, estimatedWaitSeconds: null });
    const admitted = await read(c.tokenId, users[2]!);
    expect(admitted.status).toBe(200);
    expect(admitted.body).toMatchObject({ status: 'ACTIVE', position: 0, estimatedWaitSeconds: 0 });
    expect(Date.parse(admitted.body.admittedAt)).toBeGreaterThanOrEqual(Date.parse(cancelled.body.endedAt));
    expect((await read(d.tokenId, users[3]!)).body).toMatchObject({ status: 'WAITING', position: 1 });
    expect((await read(e.tokenId, users[4]!)).body).toMatchObject({ status: 'WAITING', position: 2 });

    expect((await cancel(d.tokenId, users[3]!)).body).toMatchObject({ status: 'CANCELLED', admittedAt: null });
    expect((await read(e.tokenId, users[4]!)).body).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await queueRows(performanceId)).toMatchObject({ counter: [{ last_ticket: 5, waiting: 1 }] });
  });

  it("answers 404 for another user's token and an unknown one, 400 for a bad id, 401 without a token; an operator reads any", async () => {
    const { performanceId, users } = await newQueue(2);
    const [token] = await joinAll(performanceId, users.slice(0, 1));

    expect((await read(token.tokenId, users[1]!)).body).toMatchObject({ status: 404, code: 'NotFound' });
    expect((await read(randomUUID(), users[0]!)).body).toMatchObject({ status: 404, code: 'NotFound' });
    expect((await read('not-a-uuid', users[0]!)).body).toMatchObject({ status: 400, code: 'ValidationFailed' });
    expect((await read(token.tokenId, 'anonymous')).body).toMatchObject({ status: 401, code: 'AuthenticationRequired' });
    const operator = await read(token.tokenId, 'operator');
    expect(operator.status).toBe(200);
    expect(operator.body).toEqual(token);
    expect((await read(token.tokenId.toUpperCase(), users[0]!)).body).toEqual(token);
  });
});

describe('DELETE /queue/tokens/:id', () => {
  it('is idempotent: cancelling an ended token answers it as it ended', async () => {
    const { performanceId, users } = await newQueue(1);
    const [token] = await joinAll(performanceId, users);
    const first = await cancel(token.tokenId, users[0]!);
    const before = await queueRows(performanceId);
    const second = await cancel(token.tokenId, users[0]!);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await queueRows(performanceId)).toEqual(before);
  });

  it('refuses 409 QueueTokenInUse while the token admits a PENDING reservation, and changes nothing', async () => {
    const { performanceId, users } = await newQueue(3);
    const [token, , waiting] = await joinAll(performanceId, users);
    const reservationId = randomUUID();
    await api.orm.em.fork().execute(
      `insert into reservations (id, user_id, performance_id, seat_ids, status, total_won, hold_expires_at, workflow_id, request_hash, created_at, updated_at, queue_token_id)
       values (?, ?, ?, '[]', 'PENDING', 0, now() + interval '5 minutes', ?, 'test', now(), now(), ?)`,
      [reservationId, users[0], performanceId, `reservation-${reservationId}`, token.tokenId],
    );
    const before = await queueRows(performanceId);

    const refused = await cancel(token.tokenId, users[0]!);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'QueueTokenInUse', tokenId: token.tokenId, reservationId });
    expect(await queueRows(performanceId)).toEqual(before);
    expect((await read(waiting.tokenId, users[2]!)).body).toMatchObject({ status: 'WAITING', position: 1 });

    await api.orm.em.fork().execute(`update reservations set status = 'CANCELLED' where id = ?`, [reservationId]);
    expect((await cancel(token.tokenId, users[0]!)).body).toMatchObject({ status: 'CANCELLED' });
    expect((await read(waiting.tokenId, users[2]!)).body).toMatchObject({ status: 'ACTIVE' });
  });

  it('answers 404 to another user and for an unknown token, 403 to an operator, 400 for a bad id, 401 without a token; nothing changes', async () => {
    const { performanceId, users } = await newQueue(2);
    const [token] = await joinAll(performanceId, users.slice(0, 1));
    const before = await queueRows(performanceId);

    expect((await cancel(token.tokenId, users[1]!)).body).toMatchObject({ status: 404, code: 'NotFound' });
    expect((await cancel(randomUUID(), users[0]!)).body).toMatchObject({ status: 404, code: 'NotFound' });
    expect((await cancel(token.tokenId, 'operator')).body).toMatchObject({ status: 403, code: 'Forbidden' });
    expect((await cancel('12345', users[0]!)).body).toMatchObject({ status: 400, code: 'ValidationFailed' });
    expect((await cancel(token.tokenId, 'anonymous')).body).toMatchObject({ status: 401, code: 'AuthenticationRequired' });
    expect(await queueRows(performanceId)).toEqual(before);
  });
});

describe('the admission driver', () => {
  it('admits the next WAITING token when an ACTIVE one times out', async () => {
    const short = await startTestApi({ env: { QUEUE_ACTIVE_LIMIT: '1', QUEUE_ACTIVE_SECONDS: '1' }, refusedCalls: temporalCalls });
    const { queue, database } = short.config;
    const driver = startQueueAdmission(short.orm, pino({ level: 'silent' }), { settings: queue, pollMs: 50, databaseUrl: database.url });
    try {
      const { performanceId, users } = await newQueue(2);
      const first = (await join(performanceId, users[0]!, short)).body;
      const next = (await join(performanceId, users[1]!, short)).body;
      expect([first.status, next.status, next.position]).toEqual(['ACTIVE', 'WAITING', 1]);

      let admitted: any;
      await pollUntil('the waiting token to be admitted', async () => {
        admitted = (await read(next.tokenId, users[1]!, short)).body;
        return admitted.status !== 'WAITING';
      }, { timeoutMs: 30_000, intervalMs: 50 });
      const ended = (await read(first.tokenId, users[0]!, short)).body;

      expect(ended).toMatchObject({ status: 'EXPIRED', endReason: 'TIMED_OUT', endedAt: first.activeUntil, position: null });
      expect(admitted).toMatchObject({ status: 'ACTIVE', position: 0 });
      expect(Date.parse(admitted.admittedAt)).toBeGreaterThanOrEqual(Date.parse(first.activeUntil));
    } finally {
      await driver.stop();
      await short.close();
      expectNoContractViolations(short.contract);
    }
  });
});

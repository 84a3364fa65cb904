/**
 * Holding seats and paying behind the waiting queue (issue 15), on the whole stack with a
 * cap of one ACTIVE token per performance. `POST /reservations` and `POST
 * /reservations/:id/payment` refuse, before anything starts and changing nothing, a
 * missing, malformed, unknown, someone else's or another performance's `Queue-Token`
 * (403 `QueueTokenRequired`, 400), a WAITING one (403 `QueueTokenNotActive` with its
 * position), an ended or lapsed one (403 `QueueTokenExpired`), and a hold while the token
 * admits another PENDING reservation (409 `QueueTokenInUse`). Paying ends the token
 * (EXPIRED, PAID) and its slot goes to the next WAITING token at once, through the
 * driver's NOTIFY (its safety poll is a minute away). A token that ends between the API's
 * check and the saga's first step is refused by `createReservation` under its row lock.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createSeatActivities } from '../../activities/seats.ts';
import { reservationIdFor } from '../../api/idempotency.ts';
import { reservationWorkflowId } from '../../common/ids.ts';
import { cancelQueueToken } from '../../db/queue-tokens.ts';
import { balanceOf, createPerformance, createUser, seatStates } from '../helpers/db.ts';
import { readQueueToken } from '../helpers/queue-tokens.ts';
import { callApi, closeStack, startStack, type ApiAnswer, type TestStack } from '../helpers/stack.ts';
import { pollUntil } from '../helpers/waiting.ts';

let stack: TestStack;
/** Users whose createReservation first cancels their queue token (the race past the API's check). */
const endTokenFirst = new Set<number>();

beforeAll(async () => {
  stack = await startStack({
    // The safety poll a minute away: an admission seen within the test came from the NOTIFY.
    env: { QUEUE_ACTIVE_LIMIT: '1', QUEUE_POLL_MS: '60000' },
    activityOverrides: (real) => ({
      async createReservation(input) {
        if (endTokenFirst.has(input.userId) && input.queueTokenId) await cancelToken(input.queueTokenId);
        return real.createReservation(input);
      },
    }),
  });
});

afterAll(() => closeStack(stack));

/** Cancels queue token `tokenId` as its owner's `DELETE /queue/tokens/:id` does. */
async function cancelToken(tokenId: string): Promise<void> {
  await stack.orm.em.fork().transactional((em) => cancelQueueToken(em, tokenId, stack.config.queue));
}

/** `userId` joins the queue of `performanceId` through the API; the token's id and status. */
async function join(userId: number, performanceId: number): Promise<{ tokenId: string; status: string }> {
  const res = await callApi(stack, 'POST', '/queue/tokens', { performanceId }, {}, { as: userId });
  expect(res.status).toBe(201);
  return { tokenId: res.body.tokenId, status: res.body.status };
}

/** Sends `POST /reservations` as `userId` with `headers` and nothing else (no token of the suite's own). */
function hold(userId: number, body: Record<string, unknown>, headers: Record<string, string>): Promise<ApiAnswer> {
  return callApi(stack, 'POST', '/reservations', { holdSeconds: 600, ...body }, headers, { as: userId, queueToken: false });
}

/** Sends `POST /reservations/:id/payment` as `userId` with `headers` and nothing else. */
function pay(userId: number, reservationId: string, headers: Record<string, string>): Promise<ApiAnswer> {
  return callApi(stack, 'POST', `/reservations/${reservationId}/payment`, undefined, headers, { as: userId, queueToken: false });
}

const token = (tokenId: string) => ({ 'Queue-Token': tokenId });

/** A performance of two seats, and a user with 100,000 points whose token is ACTIVE on it. */
async function admittedUser(): Promise<{ userId: number; performanceId: number; seatIds: number[]; tokenId: string }> {
  const { performanceId, seatIds } = await createPerformance(stack.orm, 2);
  const userId = await createUser(stack.orm, 100_000);
  const { tokenId, status } = await join(userId, performanceId);
  expect(status).toBe('ACTIVE');
  return { userId, performanceId, seatIds, tokenId };
}

/** No row and no saga for the reservation `key` would have named, and the seats AVAILABLE. */
async function expectNothingStarted(userId: number, key: string, seatIds: number[]): Promise<void> {
  const reservationId = reservationIdFor(stack.config.idempotency.secret, userId, key);
  const rows = await stack.orm.em.fork().execute('select 1 from reservations where id = ?', [reservationId]);
  expect(rows).toEqual([]);
  await expect(stack.env.client.workflow.getHandle(reservationWorkflowId(reservationId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(seatIds.map(() => 'AVAILABLE'));
}

type Admitted = Awaited<ReturnType<typeof admittedUser>>;

describe('POST /reservations refuses without the caller\'s ACTIVE token, and nothing starts', () => {
  const cases: [string, (a: Admitted) => Promise<Record<string, string>>, number, string][] = [
    ['no Queue-Token header', async () => ({}), 403, 'QueueTokenRequired'],
    ['a Queue-Token that is not a UUID', async () => token('not-a-token'), 400, 'ValidationFailed'],
    ['an unknown token', async () => token(randomUUID()), 403, 'QueueTokenRequired'],
    ['another user\'s token for the performance', async (a) => token((await join(await createUser(stack.orm, 0), a.performanceId)).tokenId), 403, 'QueueTokenRequired'],
    ['the caller\'s token for another performance', async (a) => token((await join(a.userId, (await createPerformance(stack.orm, 1)).performanceId)).tokenId), 403, 'QueueTokenRequired'],
    ['a cancelled token', async (a) => (await cancelToken(a.tokenId), token(a.tokenId)), 403, 'QueueTokenExpired'],
    ['an ACTIVE token past its activeUntil', async (a) => (await lapse(a.tokenId), token(a.tokenId)), 403, 'QueueTokenExpired'],
  ];

  it.each(cases)('%s', async (_name, headersOf, status, code) => {
    const admitted = await admittedUser();
    const headers = await headersOf(admitted);
    const key = randomUUID();
    const res = await hold(admitted.userId, { performanceId: admitted.performanceId, seatIds: admitted.seatIds }, { ...headers, 'Idempotency-Key': key });
    expect([res.status, res.body.code]).toEqual([status, code]);
    if (status === 400) expect(res.body.errors).toEqual([expect.objectContaining({ path: 'Queue-Token' })]);
    await expectNothingStarted(admitted.userId, key, admitted.seatIds);
  });

  it('a WAITING token: 403 QueueTokenNotActive with its position; it keeps waiting', async () => {
    const first = await admittedUser();
    const userId = await createUser(stack.orm, 100_000);
    const waiting = await join(userId, first.performanceId);
    expect(waiting.status).toBe('WAITING');
    const key = randomUUID();
    const res = await hold(userId, { performanceId: first.performanceId, seatIds: first.seatIds }, { ...token(waiting.tokenId), 'Idempotency-Key': key });
    expect([res.status, res.body]).toEqual([403, expect.objectContaining({ code: 'QueueTokenNotActive', tokenId: waiting.tokenId, position: 1 })]);
    await expectNothingStarted(userId, key, first.seatIds);
    expect((await readQueueToken(stack.orm, waiting.tokenId))?.status).toBe('WAITING');
  });
});

/** Makes ACTIVE token `tokenId` lapse: its activeUntil passed, and no driver pass has ended it yet. */
async function lapse(tokenId: string): Promise<void> {
  await stack.orm.em.fork().execute(
    `update queue_tokens set admitted_at = clock_timestamp() - interval '2 seconds', active_until = clock_timestamp() - interval '1 second' where id = ?`,
    [tokenId],
  );
}

describe('one PENDING reservation per token', () => {
  it('refuses a second hold with 409 QueueTokenInUse (nothing starts); after cancelling the first, a new hold works', async () => {
    const { userId, performanceId, seatIds, tokenId } = await admittedUser();
    const first = await hold(userId, { performanceId, seatIds: [seatIds[0]!] }, token(tokenId));
    expect([first.status, first.body.status]).toEqual([201, 'PENDING']);

    const key = randomUUID();
    const second = await hold(userId, { performanceId, seatIds: [seatIds[1]!] }, { ...token(tokenId), 'Idempotency-Key': key });
    expect([second.status, second.body]).toEqual([409, expect.objectContaining({ code: 'QueueTokenInUse', tokenId, reservationId: first.body.reservationId })]);
    await expectNothingStarted(userId, key, [seatIds[1]!]);

    expect((await callApi(stack, 'DELETE', `/reservations/${first.body.reservationId}`, undefined, {}, { as: userId })).status).toBe(200);
    const again = await hold(userId, { performanceId, seatIds: [seatIds[1]!] }, token(tokenId));
    expect([again.status, again.body.status]).toEqual([201, 'PENDING']);
  });
});

describe('paying', () => {
  it('refuses a payment without the token the seats were held with (nothing changes), confirms with it and ends the token PAID', async () => {
    const { userId, performanceId, seatIds, tokenId } = await admittedUser();
    const key = randomUUID();
    const held = await hold(userId, { performanceId, seatIds }, { ...token(tokenId), 'Idempotency-Key': key });
    expect(held.status).toBe(201);
    const id: string = held.body.reservationId;
    const elsewhere = await join(userId, (await createPerformance(stack.orm, 1)).performanceId);
    const stranger = await join(await createUser(stack.orm, 0), performanceId);

    for (const [headers, status, code] of [
      [{}, 403, 'QueueTokenRequired'],
      [token('0'), 400, 'ValidationFailed'],
      [token(randomUUID()), 403, 'QueueTokenRequired'],
      [token(elsewhere.tokenId), 403, 'QueueTokenRequired'],
      [token(stranger.tokenId), 403, 'QueueTokenRequired'],
    ] as const) {
      const res = await pay(userId, id, headers);
      expect([res.status, res.body.code]).toEqual([status, code]);
    }
    expect(await balanceOf(stack.orm, userId)).toBe(100_000);
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['HELD', 'HELD']);
    expect((await callApi(stack, 'GET', `/reservations/${id}`, undefined, {}, { as: userId })).body).toMatchObject({ status: 'PENDING', payment: null });

    const paid = await pay(userId, id, token(tokenId));
    expect([paid.status, paid.body.status]).toEqual([200, 'CONFIRMED']);
    expect(await readQueueToken(stack.orm, tokenId)).toMatchObject({ status: 'EXPIRED', end_reason: 'PAID', ended_at: expect.any(Date) });

    // Ended token, but the reservation exists: a repeated hold and a repeated payment are answered from it.
    const replay = await hold(userId, { performanceId, seatIds }, { ...token(tokenId), 'Idempotency-Key': key });
    expect([replay.status, replay.body.reservationId, replay.body.status]).toEqual([201, id, 'CONFIRMED']);
    expect((await pay(userId, id, {})).body.code).toBe('AlreadyConfirmed');
    expect(await balanceOf(stack.orm, userId)).toBe(80_000);
  });

  it('refuses to pay with the token once it lapsed: 403 QueueTokenExpired, the hold kept', async () => {
    const { userId, performanceId, seatIds, tokenId } = await admittedUser();
    const held = await hold(userId, { performanceId, seatIds }, token(tokenId));
    expect(held.status).toBe(201);
    await lapse(tokenId);
    const res = await pay(userId, held.body.reservationId, token(tokenId));
    expect([res.status, res.body]).toEqual([403, expect.objectContaining({ code: 'QueueTokenExpired', tokenId })]);
    expect(await balanceOf(stack.orm, userId)).toBe(100_000);
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['HELD', 'HELD']);
  });

  it('admits the next WAITING token once the ACTIVE one pays, through the driver\'s NOTIFY', async () => {
    const first = await admittedUser();
    const next = await createUser(stack.orm, 100_000);
    const waiting = await join(next, first.performanceId);
    expect(waiting.status).toBe('WAITING');

    const held = await hold(first.userId, { performanceId: first.performanceId, seatIds: [first.seatIds[0]!] }, token(first.tokenId));
    expect((await pay(first.userId, held.body.reservationId, token(first.tokenId))).status).toBe(200);
    // Well within the minute before the driver's next safety poll: only the NOTIFY could wake it.
    await pollUntil('the next token to be admitted', async () => (await readQueueToken(stack.orm, waiting.tokenId))?.status === 'ACTIVE', { timeoutMs: 30_000, intervalMs: 50 });

    const [paidToken, admitted] = [await readQueueToken(stack.orm, first.tokenId), await readQueueToken(stack.orm, waiting.tokenId)];
    expect(admitted!.admitted_at!.getTime()).toBeGreaterThanOrEqual(paidToken!.ended_at!.getTime());
    const second = await hold(next, { performanceId: first.performanceId, seatIds: [first.seatIds[1]!] }, token(waiting.tokenId));
    expect([second.status, second.body.status]).toEqual([201, 'PENDING']);
  });
});

describe('a token that ends after the API\'s check', () => {
  it('is refused by the saga\'s first step: 403 QueueTokenExpired, no seat held', async () => {
    const { userId, performanceId, seatIds, tokenId } = await admittedUser();
    endTokenFirst.add(userId);
    const res = await hold(userId, { performanceId, seatIds }, token(tokenId));
    endTokenFirst.delete(userId);
    expect([res.status, res.body.code]).toEqual([403, 'QueueTokenExpired']);
    expect((await seatStates(stack.orm, seatIds)).map((s) => s.status)).toEqual(['AVAILABLE', 'AVAILABLE']);
    const pending = await stack.orm.em.fork().execute(`select 1 from reservations where user_id = ? and status = 'PENDING'`, [userId]);
    expect(pending).toEqual([]);
  });

  it('createReservation refuses an ended token with QueueTokenExpired and writes no row', async () => {
    const { userId, performanceId, seatIds, tokenId } = await admittedUser();
    await cancelToken(tokenId);
    const reservationId = randomUUID();
    const refusal = await createSeatActivities({ orm: stack.orm })
      .createReservation({
        reservationId,
        userId,
        performanceId,
        seatIds,
        holdExpiresAt: new Date(Date.now() + 60_000).toISOString(),
        workflowId: reservationWorkflowId(reservationId),
        requestHash: 'race',
        queueTokenId: tokenId,
      })
      .then(() => undefined, (err: unknown) => err);
    expect(refusal).toBeInstanceOf(ApplicationFailure);
    expect(refusal).toMatchObject({ type: 'QueueTokenExpired', nonRetryable: true });
    expect(await stack.orm.em.fork().execute('select 1 from reservations where id = ?', [reservationId])).toEqual([]);
  });
});

/**
 * Joins in batches (db/queue-tokens.ts `joinQueueBatch`, api/queue/join-batches.ts): one
 * statement gives a batch its tickets in arrival order and its positions; a batch that
 * meets a user's live token, the same user twice or an unknown user writes nothing and is
 * run again join by join, so each join gets its own answer; concurrent joins through the
 * API's batcher keep tickets unique and the counter right, and the first `activeLimit`
 * joins of a performance are ACTIVE in their answers.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { QueueSettings } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { admitPerformance } from '../../db/queue.ts';
import { joinQueueBatch, type JoinResult } from '../../db/queue-tokens.ts';
import { JoinBatches } from '../../api/queue/join-batches.ts';
import { createPerformance, createUser, openTestOrm } from '../helpers/db.ts';

let orm: Orm;

beforeAll(async () => {
  orm = await openTestOrm();
});

afterAll(async () => {
  await orm?.close();
});

const SETTINGS: QueueSettings = { activeLimit: 2, activeMs: 600_000 };

async function users(n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await createUser(orm, 0));
  return ids;
}

async function counter(performanceId: number): Promise<{ last_ticket: number; waiting: number }> {
  const [row] = await orm.em.fork().execute<{ last_ticket: number; waiting: number }[]>(
    'select last_ticket, waiting from queue_counters where performance_id = ?',
    [performanceId],
  );
  return row!;
}

function summary(results: (JoinResult | Error)[]) {
  return results.map((r) => (r instanceof Error ? 'error' : [r.token.ticket, r.token.status, r.position, r.created]));
}

describe('joinQueueBatch', () => {
  it('gives a batch its tickets in arrival order, admits what fits and positions the rest', async () => {
    const { performanceId } = await createPerformance(orm, 1);
    const ids = await users(5);
    const results = await joinQueueBatch(orm, performanceId, ids.map((userId) => ({ userId, newTokenId: randomUUID() })), SETTINGS);
    expect(summary(results)).toEqual([
      [1, 'ACTIVE', 0, true],
      [2, 'ACTIVE', 0, true],
      [3, 'WAITING', 1, true],
      [4, 'WAITING', 2, true],
      [5, 'WAITING', 3, true],
    ]);
    expect(await counter(performanceId)).toEqual({ last_ticket: 5, waiting: 3 });

    // A long queue: no admission pass; positions follow the WAITING count.
    const more = await users(2);
    const later = await joinQueueBatch(orm, performanceId, more.map((userId) => ({ userId, newTokenId: randomUUID() })), SETTINGS);
    expect(summary(later)).toEqual([
      [6, 'WAITING', 4, true],
      [7, 'WAITING', 5, true],
    ]);
  });

  it('runs a batch join by join when it meets a live token, the same user twice or an unknown user, writing each answer once', async () => {
    const { performanceId } = await createPerformance(orm, 1);
    const [a, b, c] = await users(3);
    const [first] = await joinQueueBatch(orm, performanceId, [{ userId: a!, newTokenId: randomUUID() }], SETTINGS);
    const results = await joinQueueBatch(
      orm,
      performanceId,
      [
        { userId: b!, newTokenId: randomUUID() },
        { userId: a!, newTokenId: randomUUID() }, // a's live token
        { userId: 2_000_000_000, newTokenId: randomUUID() }, // no such user
        { userId: c!, newTokenId: randomUUID() },
        { userId: c!, newTokenId: randomUUID() }, // c twice
      ],
      SETTINGS,
    );
    expect(summary(results)).toEqual([
      [2, 'ACTIVE', 0, true],
      [1, 'ACTIVE', 0, false],
      'error',
      [3, 'WAITING', 1, true],
      [3, 'WAITING', 1, false],
    ]);
    expect((results[1] as JoinResult).token.id).toBe((first as JoinResult).token.id);
    expect((results[2] as Error & { code?: string }).code).toBe('23503');
    // The refused joins gave their tickets back: 3 tokens, tickets 1..3, one WAITING.
    expect(await counter(performanceId)).toEqual({ last_ticket: 3, waiting: 1 });
  });
});

describe('JoinBatches (the API batcher)', () => {
  it('keeps tickets unique and in order under 60 concurrent joins, the first activeLimit ACTIVE', async () => {
    const { performanceId } = await createPerformance(orm, 1);
    const ids = await users(60);
    const batches = new JoinBatches(orm, SETTINGS);
    const results = await Promise.all(ids.map((userId) => batches.join(performanceId, { userId, newTokenId: randomUUID() })));
    const tickets = results.map((r) => r.token.ticket);
    expect([...tickets].sort((x, y) => x - y)).toEqual(ids.map((_, i) => i + 1));
    // Arrival order within the process is ticket order.
    expect(tickets).toEqual([...tickets].sort((x, y) => x - y));
    expect(results.filter((r) => r.token.status === 'ACTIVE').map((r) => r.token.ticket)).toEqual([1, 2]);
    const waiting = results.filter((r) => r.token.status === 'WAITING');
    expect(waiting.map((r) => r.position)).toEqual(waiting.map((_, i) => i + 1));
    expect(await counter(performanceId)).toEqual({ last_ticket: 60, waiting: 58 });
  });
});

describe('admitPerformance on a counter out of step with its rows', () => {
  it('admits and recounts WAITING instead of failing every pass on the counter check', async () => {
    const { performanceId } = await createPerformance(orm, 1);
    const ids = await users(3);
    const em = orm.em.fork();
    // Rows written behind the code's back: no counter row, two WAITING tokens.
    for (const [i, userId] of ids.slice(0, 2).entries()) {
      await em.execute(
        `insert into queue_tokens (id, performance_id, user_id, ticket, status, joined_at) values (?, ?, ?, ?, 'WAITING', now())`,
        [randomUUID(), performanceId, userId, i + 1],
      );
    }
    const pass = await orm.em.fork().transactional((tx) => admitPerformance(tx, performanceId, SETTINGS));
    expect(pass.admitted).toHaveLength(2);
    expect(await counter(performanceId)).toEqual({ last_ticket: 0, waiting: 0 });
  });
});

/**
 * The admission driver (worker/queue-admission.ts) keeps admitting when one performance's
 * admission fails: each performance is its own transaction, and a failure is logged and
 * retried on the next pass, not allowed to stop the pass for the others. The failure is
 * forced with a trigger that refuses admissions of one performance.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { QueueSettings } from '../../common/queue.ts';
import type { Orm } from '../../db/orm.ts';
import { joinQueue } from '../../db/queue-tokens.ts';
import { startQueueAdmission } from '../../worker/queue-admission.ts';
import { createPerformance, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { pollUntil } from '../helpers/waiting.ts';

let orm: Orm;
const SETTINGS: QueueSettings = { activeLimit: 1, activeMs: 600_000 };

beforeAll(async () => {
  orm = await openTestOrm();
});

afterAll(async () => {
  await orm?.em.fork().execute('drop trigger if exists queue_admission_refused on queue_tokens');
  await orm?.close();
});

async function status(tokenId: string): Promise<string> {
  const [row] = await orm.em.fork().execute<{ status: string }[]>('select status from queue_tokens where id = ?', [tokenId]);
  return row!.status;
}

describe('the admission driver', () => {
  it("admits the other performances' tokens while one performance's admission keeps failing", async () => {
    const broken = (await createPerformance(orm, 1)).performanceId;
    const healthy = (await createPerformance(orm, 1)).performanceId;
    const tokens: Record<string, string> = {};
    for (const [name, performanceId] of [['broken', broken], ['healthy', healthy]] as const) {
      const first = await joinQueue(orm, { performanceId, userId: await createUser(orm, 0), newTokenId: randomUUID() }, SETTINGS);
      const second = await joinQueue(orm, { performanceId, userId: await createUser(orm, 0), newTokenId: randomUUID() }, SETTINGS);
      expect([first.token.status, second.token.status]).toEqual(['ACTIVE', 'WAITING']);
      tokens[name] = second.token.id;
      // Free the slot behind the driver's back: the WAITING token is now admissible.
      await orm.em.fork().execute(`update queue_tokens set status = 'CANCELLED', end_reason = 'CANCELLED', ended_at = clock_timestamp() where id = ?`, [first.token.id]);
    }
    const em = orm.em.fork();
    await em.execute(
      `create or replace function queue_admission_refused() returns trigger language plpgsql as $$
       begin raise exception 'admission refused for this test'; end $$`,
    );
    await em.execute(
      `create trigger queue_admission_refused before update on queue_tokens for each row
       when (new.performance_id = ${broken} and new.status = 'ACTIVE') execute function queue_admission_refused()`,
    );
    const { database } = testConfig();
    const driver = startQueueAdmission(orm, pino({ level: 'silent' }), { settings: SETTINGS, pollMs: 50, databaseUrl: database.url });
    try {
      // Performances are passed in id order: the broken one comes first.
      expect(broken).toBeLessThan(healthy);
      await pollUntil('the healthy performance to admit its waiting token', async () => (await status(tokens.healthy!)) === 'ACTIVE', {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      expect(await status(tokens.broken!)).toBe('WAITING');
    } finally {
      await driver.stop();
      await orm.em.fork().execute('drop trigger if exists queue_admission_refused on queue_tokens');
    }
  });
});

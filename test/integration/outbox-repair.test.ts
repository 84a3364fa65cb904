/**
 * The outbox relay's repair of missing events (worker/outbox-relay.ts, worker/outbox-rows.ts
 * `writeMissingEvents`): an order and a reservation CONFIRMED without an outbox event, as
 * a worker of code from before the outbox leaves them during a rolling deploy, get the
 * event their pivot would have written (same event id, type, payload and occurred_at) from
 * the relay's next pass, once, and it is delivered once; a second pass writes nothing; a
 * saga confirmed within the grace period is left alone until the grace has passed.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createDataPlatformClient } from '../../activities/data-platform.ts';
import { confirmedEventId, reservationWorkflowId, stepKey } from '../../common/ids.ts';
import { poolQuery, type Orm } from '../../db/orm.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { startOutboxRelay, type OutboxRelay } from '../../worker/outbox-relay.ts';
import { writeMissingEvents } from '../../worker/outbox-rows.ts';
import { createPerformance, createProduct, createUser, openTestOrm, testConfig } from '../helpers/db.ts';
import { confirmOrderThroughActivities } from '../helpers/ranking.ts';
import { SagaRows } from '../helpers/saga-rows.ts';

const quiet = pino({ level: 'silent' });
const GRACE_MS = 2_000;

let orm: Orm;
let sagas: SagaRows;
let platform: DataPlatformServer;
let relay: OutboxRelay;

beforeAll(async () => {
  const config = testConfig();
  orm = await openTestOrm(config);
  sagas = new SagaRows(orm);
  platform = createDataPlatformServer({ logger: quiet });
  const { url } = await platform.listen(0, '127.0.0.1');
  // Only drainNow() runs a pass (no safety poll within the test); every pass repairs.
  relay = startOutboxRelay(orm, quiet, {
    databaseUrl: config.database.url,
    client: createDataPlatformClient({ baseUrl: url, timeoutMs: 5_000 }),
    pollMs: 600_000,
    repair: { everyMs: 0, graceMs: GRACE_MS, lookbackMs: 3_600_000 },
  });
});

afterAll(async () => {
  await relay?.stop();
  await platform?.close();
  await orm?.close();
});

interface EventRow {
  event_id: string;
  event_type: string;
  status: string;
  payload: Record<string, unknown>;
  occurred_at: string;
}

async function eventsOf(sagaIds: string[]): Promise<EventRow[]> {
  return poolQuery<EventRow>(
    orm,
    `select event_id, event_type, status, payload, to_char(occurred_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') as occurred_at
     from data_platform_deliveries where saga_id = any($1::text[]) order by event_id`,
    [sagaIds],
  );
}

/** A confirmed order and reservation whose events the old code never wrote: the pivots' rows, taken away; their confirmation `agoMs` back. */
async function confirmedWithoutEvents(agoMs: number): Promise<{ sagaIds: string[]; pivotRows: EventRow[] }> {
  const productId = await createProduct(orm, 10, 1_000);
  const userId = await createUser(orm, 100_000);
  const order = await confirmOrderThroughActivities(sagas.acts, userId, [{ productId, quantity: 2 }]);
  const { performanceId, seatIds } = await createPerformance(orm, 2);
  const reservationId = randomUUID();
  const workflowId = reservationWorkflowId(reservationId);
  const created = await sagas.acts.createReservation({
    reservationId, userId, performanceId, seatIds, holdExpiresAt: new Date(Date.now() + 3_600_000).toISOString(), workflowId, requestHash: 'h',
  });
  await sagas.acts.holdSeats({ reservationId });
  await sagas.acts.payWithPoints({ userId, amountPoints: created.totalWon, sagaId: workflowId, idempotencyKey: stepKey(workflowId, 'pay') });
  await sagas.acts.confirmReservation({ reservationId });
  const sagaIds = [order.workflowId, workflowId].sort();
  // Back-date the confirmation and the pivot's occurred_at alike (the pivot writes both at its transaction's time).
  await poolQuery(orm, `update orders set confirmed_at = confirmed_at - $2 * interval '1 millisecond' where workflow_id = $1`, [order.workflowId, agoMs]);
  await poolQuery(orm, `update reservations set confirmed_at = confirmed_at - $2 * interval '1 millisecond' where workflow_id = $1`, [workflowId, agoMs]);
  await poolQuery(orm, `update data_platform_deliveries set occurred_at = occurred_at - $2 * interval '1 millisecond' where saga_id = any($1::text[])`, [sagaIds, agoMs]);
  const pivotRows = await eventsOf(sagaIds);
  expect(pivotRows.map((r) => r.event_id)).toEqual(sagaIds.map(confirmedEventId));
  await poolQuery(orm, 'delete from data_platform_deliveries where saga_id = any($1::text[])', [sagaIds]);
  return { sagaIds, pivotRows };
}

function receivedCount(eventId: string): number {
  return platform.events().filter((e) => e.eventId === eventId).length;
}

describe('outbox repair', () => {
  it('writes the missing event of a confirmed order and reservation once, as the pivot would have; it is delivered once', async () => {
    const { sagaIds, pivotRows } = await confirmedWithoutEvents(GRACE_MS + 10_000);
    await relay.drainNow();
    const repaired = await eventsOf(sagaIds);
    expect(repaired).toEqual(pivotRows.map((r) => ({ ...r, status: 'DELIVERED' })));
    for (const id of sagaIds) expect(receivedCount(confirmedEventId(id))).toBe(1);

    await relay.drainNow();
    const again = await writeMissingEvents(orm, { graceMs: GRACE_MS, lookbackMs: 3_600_000, limit: 500 });
    expect(again.filter((id) => sagaIds.map(confirmedEventId).includes(id))).toEqual([]);
    expect(await eventsOf(sagaIds)).toEqual(repaired);
    for (const id of sagaIds) expect(receivedCount(confirmedEventId(id))).toBe(1);
  });

  it('leaves a saga confirmed within the grace period alone, and repairs it once the grace has passed', async () => {
    const { sagaIds } = await confirmedWithoutEvents(0);
    await relay.drainNow();
    expect(await eventsOf(sagaIds)).toEqual([]);
    await poolQuery(orm, `update orders set confirmed_at = confirmed_at - interval '1 minute' where workflow_id = any($1::text[])`, [sagaIds]);
    await poolQuery(orm, `update reservations set confirmed_at = confirmed_at - interval '1 minute' where workflow_id = any($1::text[])`, [sagaIds]);
    await relay.drainNow();
    expect((await eventsOf(sagaIds)).map((r) => [r.event_id, r.status])).toEqual(sagaIds.map((id) => [confirmedEventId(id), 'DELIVERED']));
    for (const id of sagaIds) expect(receivedCount(confirmedEventId(id))).toBe(1);
  });
});

/**
 * The outbox relay (worker/outbox-relay.ts) against PostgreSQL and the mock data platform
 * over HTTP. Events are inserted into the outbox as a saga's pivot writes them (PENDING,
 * with a NOTIFY on commit); the relays run with a safety poll far longer than any test, so
 * a prompt delivery is explained by the NOTIFY, a retry's due moment or a lease's end.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  createDataPlatformClient,
  DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC,
  DATA_PLATFORM_DELIVERY_LAG_METRIC,
} from '../../activities/data-platform.ts';
import { OUTBOX_CHANNEL } from '../../common/outbox.ts';
import type { Orm } from '../../db/orm.ts';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';
import { startOutboxRelay, OUTBOX_BACKLOG_METRIC, type OutboxRelay, type OutboxRelayOptions } from '../../worker/outbox-relay.ts';
import { markDelivered, markFailed, type ClaimedEvent } from '../../worker/outbox-rows.ts';
import { openTestOrm, testConfig } from '../helpers/db.ts';
import { recordingMeter, type RecordingMeter } from '../helpers/recording-meter.ts';
import { pollUntil } from '../helpers/waiting.ts';

/** Longer than any test: only a NOTIFY, a retry's due moment or a lease's end wakes a relay. */
const NO_SAFETY_POLL_MS = 600_000;
const quiet = pino({ level: 'silent' });

interface OutboxRow {
  event_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  delivered_at: Date | null;
  claimed_until: Date | null;
  occurred_at_iso: string;
  payload: Record<string, unknown>;
}

let orm: Orm;
let platform: DataPlatformServer;
let platformUrl: string;
let databaseUrl: string;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  const config = testConfig();
  databaseUrl = config.database.url;
  orm = await openTestOrm(config);
  platform = createDataPlatformServer({ logger: quiet });
  platformUrl = (await platform.listen(0, '127.0.0.1')).url;
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  platform.updateSettings({ down: false, latencyMs: 0 });
});

afterAll(async () => {
  await platform?.close();
  await orm?.close();
});

/** Starts a relay on the suite's database and data platform; stopped after each test. */
async function startRelay(options: Partial<OutboxRelayOptions> = {}, meter?: RecordingMeter): Promise<OutboxRelay> {
  const relay = startOutboxRelay(
    orm,
    quiet,
    { databaseUrl, client: createDataPlatformClient({ baseUrl: platformUrl, timeoutMs: 5_000 }), pollMs: NO_SAFETY_POLL_MS, ...options },
    meter,
  );
  relays.push(relay);
  return relay;
}

/** Resolves once `count` relays LISTEN on the outbox channel (so a NOTIFY reaches them). */
async function listeners(count: number): Promise<void> {
  await pollUntil(`${count} LISTEN ${OUTBOX_CHANNEL}`, async () => {
    const [row] = await orm.em.fork().execute<{ n: number }[]>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and query = ?`,
      [`LISTEN ${OUTBOX_CHANNEL}`],
    );
    return (row?.n ?? 0) >= count;
  });
}

/** Writes events into the outbox as a pivot does: PENDING rows and a NOTIFY each, in one transaction; returns their ids. */
async function insertEvents(count: number, options: { eventIds?: string[]; notify?: boolean } = {}): Promise<string[]> {
  const ids = options.eventIds ?? Array.from({ length: count }, () => `order.confirmed:order-${randomUUID()}`);
  await orm.em.fork().transactional(async (em) => {
    for (const id of ids) {
      await em.execute(
        `insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, created_at, occurred_at, next_attempt_at)
           values (?, ?, 'order.confirmed', 'PENDING', 0, ?::jsonb, clock_timestamp(), now(), now())`,
        [id, `order-${randomUUID()}`, JSON.stringify({ orderId: id.slice(-36), totalWon: 1000 })],
      );
      if (options.notify !== false) await em.execute(`select pg_notify(?, ?)`, [OUTBOX_CHANNEL, id]);
    }
  });
  return ids;
}

async function rowsOf(ids: string[]): Promise<Map<string, OutboxRow>> {
  const rows = await orm.em.fork().execute<OutboxRow[]>(
    `select event_id, status, attempts, last_error, delivered_at, claimed_until, payload,
            to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at_iso
       from data_platform_deliveries where event_id = any(?::text[])`,
    [`{${ids.map((id) => `"${id}"`).join(',')}}`],
  );
  return new Map(rows.map((r) => [r.event_id, r]));
}

async function allDelivered(ids: string[]): Promise<boolean> {
  const rows = await rowsOf(ids);
  return ids.every((id) => rows.get(id)?.status === 'DELIVERED');
}

function received(ids: string[]) {
  const wanted = new Set(ids);
  return platform.events().filter((e) => wanted.has(e.eventId));
}

describe('outbox relay', () => {
  it('delivers new events on their NOTIFY and marks them DELIVERED', async () => {
    await startRelay();
    await listeners(1);
    const ids = await insertEvents(3);

    await pollUntil('the NOTIFYed events to be DELIVERED', () => allDelivered(ids), { timeoutMs: 30_000 });

    const rows = await rowsOf(ids);
    for (const id of ids) {
      const row = rows.get(id)!;
      expect(row).toMatchObject({ status: 'DELIVERED', attempts: 1, last_error: null, claimed_until: null });
      expect(row.delivered_at).not.toBeNull();
      const [event] = received([id]);
      expect(event).toMatchObject({ eventId: id, type: 'order.confirmed', occurredAt: row.occurred_at_iso, payload: row.payload, attempts: 1 });
    }
  });

  it('parks an event the platform refuses (4xx) as FAILED and still delivers the ones after it', async () => {
    // An event id longer than the platform accepts (200 characters): it answers 400.
    const [poison] = await insertEvents(1, { eventIds: [`poison-${randomUUID()}-${'x'.repeat(200)}`], notify: false });
    const good = await insertEvents(2, { notify: false });
    const meter = recordingMeter();
    const relay = await startRelay({}, meter);

    await relay.drainNow(); // the relay's first pass, then one more

    const rows = await rowsOf([poison!, ...good]);
    expect(rows.get(poison!)).toMatchObject({ status: 'FAILED', attempts: 1, claimed_until: null });
    expect(rows.get(poison!)?.last_error).toMatch(/400/);
    for (const id of good) expect(rows.get(id)?.status).toBe('DELIVERED');
    expect(received(good)).toHaveLength(2);

    await relay.drainNow();
    expect((await rowsOf([poison!])).get(poison!)).toMatchObject({ status: 'FAILED', attempts: 1 });
    // Rows an earlier suite left PENDING may be delivered too: at least ours are counted.
    expect(meter.counted(DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC, { outcome: 'rejected' })).toBeGreaterThanOrEqual(1);
    expect(meter.counted(DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC, { outcome: 'delivered' })).toBeGreaterThanOrEqual(2);
    expect(meter.recorded(DATA_PLATFORM_DELIVERY_LAG_METRIC).length).toBeGreaterThanOrEqual(2);
    // Set by the first pass after it delivered (the gauge refreshes at most once a second).
    const [pending] = await orm.em.fork().execute<{ n: number }[]>(`select count(*)::int as n from data_platform_deliveries where status = 'PENDING'`);
    expect(meter.lastSet(OUTBOX_BACKLOG_METRIC)).toBe(pending?.n);
  });

  it('retries while the platform is down, with backoff, and delivers once it is back', async () => {
    platform.updateSettings({ down: true });
    await startRelay();
    await listeners(1);
    const [id] = await insertEvents(1);

    // Each retry is woken by its own due moment (next_attempt_at): the safety poll never fires.
    await pollUntil('three attempts against the down platform', async () => ((await rowsOf([id!])).get(id!)?.attempts ?? 0) >= 3);
    const down = (await rowsOf([id!])).get(id!)!;
    expect(down.status).toBe('PENDING');
    expect(down.last_error).toMatch(/503/);
    expect(received([id!])).toHaveLength(0);

    platform.updateSettings({ down: false });
    await pollUntil('the event to be DELIVERED after the platform returned', () => allDelivered([id!]));
    expect((await rowsOf([id!])).get(id!)).toMatchObject({ status: 'DELIVERED', last_error: null });
    expect(received([id!])).toEqual([expect.objectContaining({ eventId: id, attempts: 1 })]);
  });

  it('two relays on one outbox POST every event exactly once and mark it once', async () => {
    platform.updateSettings({ latencyMs: 2 });
    await startRelay({ batchSize: 7 });
    await startRelay({ batchSize: 7 });
    await listeners(2);
    const ids = await insertEvents(120);

    await pollUntil('every event DELIVERED', () => allDelivered(ids));

    const events = received(ids);
    expect(events).toHaveLength(ids.length);
    // `attempts` at the receiver counts every POST of the event id: one each.
    expect(events.filter((e) => e.attempts !== 1)).toEqual([]);
    const rows = await rowsOf(ids);
    expect(ids.filter((id) => rows.get(id)?.attempts !== 1)).toEqual([]);
  });

  it('a stopping relay finishes the POSTs in flight and gives back the claims it did not send', async () => {
    platform.updateSettings({ latencyMs: 400 });
    const ids = await insertEvents(20, { notify: false });
    const relay = await startRelay({ batchSize: 20 });
    await pollUntil('the batch to be claimed', async () => [...(await rowsOf(ids)).values()].every((r) => r.claimed_until !== null), {
      intervalMs: 10,
    });

    await relay.stop();

    const rows = [...(await rowsOf(ids)).values()];
    const delivered = rows.filter((r) => r.status === 'DELIVERED');
    const released = rows.filter((r) => r.status === 'PENDING' && r.claimed_until === null && r.attempts === 0);
    expect(delivered.length).toBeGreaterThan(0);
    expect(released.length).toBeGreaterThan(0);
    expect(delivered.length + released.length).toBe(ids.length);
    expect(received(ids).map((e) => e.eventId).sort()).toEqual(delivered.map((r) => r.event_id).sort());
  });

  it('delivers an event whose claim was left by a dead relay once its lease ends, and ignores the dead claim', async () => {
    const [id] = await insertEvents(1, { notify: false });
    // A relay claimed it and died before POSTing: a lease of 3 s from now.
    const [claimed] = await orm.em.fork().execute<{ lease: string; occurred_at: string }[]>(
      `update data_platform_deliveries set claimed_until = now() + interval '3 seconds' where event_id = ?
       returning claimed_until::text as lease, occurred_at::text as occurred_at`,
      [id],
    );
    const relay = await startRelay();

    await relay.drainNow();
    expect((await rowsOf([id!])).get(id!)?.status).toBe('PENDING');
    expect(received([id!])).toHaveLength(0);

    // Woken by the lease's end (the safety poll never fires).
    await pollUntil('the abandoned event to be DELIVERED', () => allDelivered([id!]));
    expect(received([id!])).toEqual([expect.objectContaining({ eventId: id, attempts: 1 })]);

    const dead: ClaimedEvent = {
      sagaId: 'dead-relay',
      event: { eventId: id!, type: 'order.confirmed', occurredAt: claimed!.occurred_at, payload: {} },
      attempts: 0,
      lease: claimed!.lease,
    };
    expect(await markFailed(orm, dead, 'late outcome of a dead relay')).toBe(false);
    expect(await markDelivered(orm, dead)).toBeNull();
    expect((await rowsOf([id!])).get(id!)).toMatchObject({ status: 'DELIVERED', attempts: 1, last_error: null });
  });
});

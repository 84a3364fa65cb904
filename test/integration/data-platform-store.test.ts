/**
 * The mock data platform's event file (DATA_PLATFORM_STORE_PATH): a new server on the
 * same file knows every event and attempt count the previous one recorded and answers a
 * redelivery as a duplicate; a torn last line (a process killed mid-write) is dropped;
 * DELETE /events empties the file; without a path nothing is written.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { pino } from 'pino';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';

const logger = pino({ level: 'silent' });
let dir: string;
let seq = 0;
/** Servers still open, closed after each test whatever it asserted. */
const open: DataPlatformServer[] = [];

function newEvent(type = 'OrderConfirmed') {
  seq += 1;
  return {
    eventId: `order-${seq}:confirmed`,
    type,
    occurredAt: '2025-01-02T03:04:05.000Z',
    payload: { orderId: `order-${seq}`, totalWon: 89_000 },
  };
}

/** A new server on `storePath`, listening on a free port; closed after the test. */
async function start(storePath?: string, failureRate = 0) {
  const server = createDataPlatformServer({ logger, storePath, failureRate });
  open.push(server);
  const { url } = await server.listen(0, '127.0.0.1');
  const send = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
  return { server, send };
}

async function stop(server: DataPlatformServer) {
  await server.close();
  open.splice(open.indexOf(server), 1);
}

/** A fresh path in this suite's directory; its parent directory does not exist yet. */
function newStorePath(): string {
  seq += 1;
  return path.join(dir, `run-${seq}`, 'events.jsonl');
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'data-platform-store-'));
});

afterEach(async () => {
  for (const server of open.splice(0)) await server.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('mock data platform event file', () => {
  it('gives a restarted server every event with its attempts, and answers a redelivery as a duplicate', async () => {
    const file = newStorePath();
    const order = newEvent('OrderConfirmed');
    const reservation = newEvent('ReservationConfirmed');
    const first = await start(file, 1);
    expect((await first.send('POST', '/events', order)).status).toBe(500);
    first.server.updateSettings({ failureRate: 0 });
    expect((await first.send('POST', '/events', order)).status).toBe(201);
    expect((await first.send('POST', '/events', reservation)).status).toBe(201);
    const before = first.server.events();
    await stop(first.server);

    const second = await start(file);
    expect((await second.send('GET', '/events')).body).toEqual({ events: before });
    expect(before).toEqual([
      expect.objectContaining({ ...order, attempts: 2 }),
      expect.objectContaining({ ...reservation, attempts: 1 }),
    ]);
    const redelivery = await second.send('POST', '/events', { ...order, payload: { changed: true } });
    expect(redelivery).toEqual({ status: 200, body: { eventId: order.eventId, duplicate: true } });
    expect((await second.send('GET', `/events/${order.eventId}`)).body).toEqual({ ...before[0], attempts: 3 });
    await stop(second.server);

    const third = await start(file);
    expect(third.server.events()).toEqual([{ ...before[0], attempts: 3 }, before[1]]);
  });

  it('counts the attempts of an event that was never recorded across a restart', async () => {
    const file = newStorePath();
    const event = newEvent();
    const first = await start(file, 1);
    expect((await first.send('POST', '/events', event)).status).toBe(500);
    await stop(first.server);

    const second = await start(file);
    expect((await second.send('POST', '/events', event)).status).toBe(201);
    expect(second.server.events()).toEqual([expect.objectContaining({ eventId: event.eventId, attempts: 2 })]);
  });

  it('drops a torn last line, and what is recorded after it reads back whole', async () => {
    const file = newStorePath();
    const kept = newEvent();
    const torn = newEvent();
    const first = await start(file);
    await first.send('POST', '/events', kept);
    await stop(first.server);
    // What a process killed in the middle of writing the line of `torn` leaves behind.
    const line = JSON.stringify({ op: 'event', event: { ...torn, receivedAt: '2025-01-02T03:04:06.000Z', attempts: 1 } });
    appendFileSync(file, line.slice(0, 40));
    const intactBytes = statSync(file).size - 40;

    const second = await start(file);
    expect(second.server.events()).toEqual([expect.objectContaining({ eventId: kept.eventId, attempts: 1 })]);
    expect(statSync(file).size).toBe(intactBytes);
    expect((await second.send('POST', '/events', torn)).status).toBe(201);
    await stop(second.server);

    const third = await start(file);
    expect(third.server.events().map((e) => [e.eventId, e.attempts])).toEqual([
      [kept.eventId, 1],
      [torn.eventId, 1],
    ]);
  });

  it('refuses to start on a file whose complete lines are not its journal', async () => {
    const file = newStorePath();
    const first = await start(file);
    await stop(first.server);
    writeFileSync(file, '{"op":"event","event":{"eventId":"e-1"}}\nnot json\n');

    expect(() => createDataPlatformServer({ logger, storePath: file })).toThrow(`${file}:1: not a journal entry`);
  });

  it('empties the file on DELETE /events, and a restarted server starts with no events', async () => {
    const file = newStorePath();
    const first = await start(file);
    await first.send('POST', '/events', newEvent());
    expect(statSync(file).size).toBeGreaterThan(0);

    expect((await first.send('DELETE', '/events')).status).toBe(204);
    expect(readFileSync(file, 'utf8')).toBe('');
    const after = newEvent();
    expect((await first.send('POST', '/events', after)).status).toBe(201);
    await stop(first.server);

    const second = await start(file);
    expect(second.server.events()).toEqual([expect.objectContaining({ eventId: after.eventId, attempts: 1 })]);
    second.server.clear();
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('keeps events in memory only without a store path: a restarted server forgets them', async () => {
    const event = newEvent();
    const first = await start();
    expect((await first.send('POST', '/events', event)).status).toBe(201);
    await stop(first.server);

    const second = await start('');
    expect(second.server.events()).toEqual([]);
    expect((await second.send('POST', '/events', event)).status).toBe(201);
  });

  it('creates the file and its directory when they are missing', async () => {
    const file = newStorePath();
    expect(existsSync(path.dirname(file))).toBe(false);

    const first = await start(file);
    expect(readFileSync(file, 'utf8')).toBe('');
    await first.send('POST', '/events', newEvent());
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).op)).toEqual(['attempts', 'event']);
  });
});

/**
 * The mock data platform over real HTTP: deduplication by eventId, simulated outage,
 * failures before and after recording, latency, run-time settings and input validation.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { pino } from 'pino';
import { createDataPlatformServer, type DataPlatformServer } from '../../data-platform/server.ts';

let server: DataPlatformServer;
let baseUrl: string;
let seq = 0;

function newEvent(type = 'OrderConfirmed') {
  seq += 1;
  return {
    eventId: `order-${seq}:notify`,
    type,
    occurredAt: new Date('2025-01-02T03:04:05.000Z').toISOString(),
    payload: { orderId: `order-${seq}`, totalWon: 89_000 },
  };
}

async function send(method: string, path: string, body?: unknown) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

beforeAll(async () => {
  server = createDataPlatformServer({ logger: pino({ level: 'silent' }) });
  ({ url: baseUrl } = await server.listen(0, '127.0.0.1'));
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.clear();
  server.updateSettings({ latencyMs: 0, failureRate: 0, down: false, failAfterRecord: 0 });
});

describe('mock data platform', () => {
  it('records an event once and answers repeats as duplicates', async () => {
    const event = newEvent();
    const first = await send('POST', '/events', event);
    const second = await send('POST', '/events', event);

    expect(first).toEqual({ status: 201, body: { eventId: event.eventId, duplicate: false } });
    expect(second).toEqual({ status: 200, body: { eventId: event.eventId, duplicate: true } });
    const stored = await send('GET', `/events/${encodeURIComponent(event.eventId)}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ ...event, attempts: 2 });
    expect(typeof stored.body?.receivedAt).toBe('string');
    expect(server.events()).toHaveLength(1);
  });

  it('answers 503 and records nothing while down', async () => {
    await send('PUT', '/settings', { down: true });
    const event = newEvent();

    const res = await send('POST', '/events', event);

    expect(res.status).toBe(503);
    expect(res.body?.error.code).toBe('SERVICE_UNAVAILABLE');
    expect((await send('GET', '/events')).body).toEqual({ events: [] });
    expect((await send('GET', '/healthz')).status).toBe(200);
  });

  it('answers 500 without recording when the failure rate is 1, and counts the attempts', async () => {
    await send('PUT', '/settings', { failureRate: 1 });
    const event = newEvent();

    const res = await send('POST', '/events', event);
    expect(res.status).toBe(500);
    expect(res.body?.error.code).toBe('SIMULATED_FAILURE');
    expect((await send('GET', `/events/${event.eventId}`)).status).toBe(404);

    await send('PUT', '/settings', { failureRate: 0 });
    const retry = await send('POST', '/events', event);
    expect(retry.status).toBe(201);
    expect(server.events()).toEqual([expect.objectContaining({ eventId: event.eventId, attempts: 2 })]);
  });

  it('records the event and still answers 500 when failAfterRecord is 1 (the ambiguous case)', async () => {
    await send('PUT', '/settings', { failAfterRecord: 1 });
    const event = newEvent();

    const res = await send('POST', '/events', event);
    expect(res.status).toBe(500);
    expect(server.events().map((e) => e.eventId)).toEqual([event.eventId]);

    await send('PUT', '/settings', { failAfterRecord: 0 });
    const retry = await send('POST', '/events', event);
    expect(retry).toEqual({ status: 200, body: { eventId: event.eventId, duplicate: true } });
  });

  it('delays POST /events by the configured latency', async () => {
    const latencyMs = 300;
    await send('PUT', '/settings', { latencyMs });

    const started = performance.now();
    const res = await send('POST', '/events', newEvent());

    expect(res.status).toBe(201);
    // A small allowance for timer granularity; the mock sleeps before doing anything else.
    expect(performance.now() - started).toBeGreaterThanOrEqual(latencyMs - 5);
  });

  it('reports and changes its settings at run time', async () => {
    const changed = await send('PUT', '/settings', { latencyMs: 3000, failureRate: 0.5, down: true });

    expect(changed).toEqual({
      status: 200,
      body: { latencyMs: 3000, failureRate: 0.5, down: true, failAfterRecord: 0 },
    });
    expect((await send('GET', '/settings')).body).toEqual(changed.body);
    expect(server.settings).toEqual(changed.body);
  });

  it('refuses out-of-range or unknown settings with 400 and keeps the old ones', async () => {
    const bad = await send('PUT', '/settings', { failureRate: 2 });
    const unknown = await send('PUT', '/settings', { latency: 10 });

    expect(bad.status).toBe(400);
    expect(bad.body?.error.code).toBe('VALIDATION_ERROR');
    expect(bad.body?.error.details).toEqual([expect.objectContaining({ path: 'failureRate' })]);
    expect(unknown.status).toBe(400);
    expect(server.settings.failureRate).toBe(0);
  });

  it('refuses a malformed event with 400 and a JSON error body', async () => {
    const missing = await send('POST', '/events', { eventId: 'e-1', type: 'OrderConfirmed' });
    const badDate = await send('POST', '/events', { ...newEvent(), occurredAt: 'yesterday' });
    const notJson = await fetch(`${baseUrl}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });

    expect(missing.status).toBe(400);
    expect(missing.body?.error).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.any(String) });
    expect(missing.body?.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['occurredAt', 'payload']);
    expect(badDate.status).toBe(400);
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    expect(server.events()).toEqual([]);
  });

  it('lists events filtered by type and clears them', async () => {
    const order = newEvent('OrderConfirmed');
    const reservation = newEvent('ReservationConfirmed');
    await send('POST', '/events', order);
    await send('POST', '/events', reservation);

    const all = await send('GET', '/events');
    const onlyReservations = await send('GET', '/events?type=ReservationConfirmed');
    expect(all.body?.events.map((e: { eventId: string }) => e.eventId)).toEqual([order.eventId, reservation.eventId]);
    expect(onlyReservations.body?.events).toEqual([expect.objectContaining({ eventId: reservation.eventId })]);

    expect((await send('DELETE', '/events')).status).toBe(204);
    expect((await send('GET', '/events')).body).toEqual({ events: [] });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await send('GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.body?.error.code).toBe('NOT_FOUND');
  });
});

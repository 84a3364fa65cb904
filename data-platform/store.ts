/**
 * In-memory event store of the mock data platform: records each `eventId` once and
 * counts every delivery attempt, so tests can observe retries and deduplication.
 */
import type { IncomingEvent, ReceivedEvent } from './schemas.ts';

/** Outcome of {@link EventStore.record}: whether this delivery was a repeat. */
export type RecordResult = { event: ReceivedEvent; duplicate: boolean };

/**
 * Events keyed by `eventId`, in arrival order. Not shared between processes and lost on
 * restart, which is what a mock needs.
 */
export class EventStore {
  readonly #events = new Map<string, ReceivedEvent>();
  /** Attempts per eventId, kept apart from the events so failed attempts count too. */
  readonly #attempts = new Map<string, number>();
  readonly #now: () => Date;

  /** @param now clock used for `receivedAt` (injectable for tests). */
  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  /** Counts one delivery attempt of `eventId`, whatever its outcome; returns the new count. */
  countAttempt(eventId: string): number {
    const n = (this.#attempts.get(eventId) ?? 0) + 1;
    this.#attempts.set(eventId, n);
    const stored = this.#events.get(eventId);
    if (stored) stored.attempts = n;
    return n;
  }

  /**
   * Records `event` unless its `eventId` is already stored; a repeat keeps the first
   * version unchanged and reports `duplicate: true`.
   */
  record(event: IncomingEvent): RecordResult {
    const existing = this.#events.get(event.eventId);
    if (existing) return { event: { ...existing }, duplicate: true };
    const stored: ReceivedEvent = {
      eventId: event.eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      payload: event.payload,
      receivedAt: this.#now().toISOString(),
      attempts: this.#attempts.get(event.eventId) ?? 0,
    };
    this.#events.set(event.eventId, stored);
    return { event: { ...stored }, duplicate: false };
  }

  /** The stored event with this id, or `undefined`. Returns a copy. */
  get(eventId: string): ReceivedEvent | undefined {
    const e = this.#events.get(eventId);
    return e ? { ...e } : undefined;
  }

  /** Stored events in arrival order, optionally only those of one `type`. Returns copies. */
  list(type?: string): ReceivedEvent[] {
    const all = [...this.#events.values()].map((e) => ({ ...e }));
    return type === undefined ? all : all.filter((e) => e.type === type);
  }

  /** Forgets every event and attempt count. */
  clear(): void {
    this.#events.clear();
    this.#attempts.clear();
  }
}

/**
 * Event store of the mock data platform: records each `eventId` once and counts every
 * delivery attempt, so tests can observe retries and deduplication. In memory, or kept in
 * a JSON-lines journal (data-platform/journal.ts) so that a restarted mock still knows
 * what it received and answers a redelivery as a duplicate.
 */
import { EventJournal, type JournalEntry } from './journal.ts';
import type { IncomingEvent, ReceivedEvent } from './schemas.ts';

/** Outcome of {@link EventStore.record}: whether this delivery was a repeat. */
export type RecordResult = { event: ReceivedEvent; duplicate: boolean };

/** Options of {@link EventStore}. */
export type EventStoreOptions = {
  /** Clock used for `receivedAt` (injectable for tests). Default `() => new Date()`. */
  now?: () => Date;
  /**
   * The journal file (relative to the working directory), opened and read back by the
   * constructor; absent or empty: in memory only, lost on restart.
   */
  path?: string;
};

/** What a store backed by a journal read back when it opened. */
export type StoreLoad = {
  /** The journal's path. */
  path: string;
  /** Events read back. */
  events: number;
  /** Bytes of a torn last line (a writer killed mid-write) that were dropped; 0 normally. */
  tornBytes: number;
};

/**
 * Events keyed by `eventId`, in arrival order. With a journal, every change is appended
 * to it before it is applied here, so what a caller was told is what a restart reads back.
 */
export class EventStore {
  readonly #events = new Map<string, ReceivedEvent>();
  /** Attempts per eventId, kept apart from the events so failed attempts count too. */
  readonly #attempts = new Map<string, number>();
  readonly #now: () => Date;
  readonly #journal: EventJournal | undefined;
  /** What was read back from the journal; undefined in memory. */
  readonly loaded: StoreLoad | undefined;

  /**
   * @throws what {@link EventJournal.open} throws when `options.path` cannot be opened or
   *   holds a line that is not a journal entry.
   */
  constructor(options: EventStoreOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    if (!options.path) return;
    const { journal, contents } = EventJournal.open(options.path);
    this.#journal = journal;
    this.#replay(contents.entries);
    this.loaded = { path: options.path, events: this.#events.size, tornBytes: contents.tornBytes };
  }

  /**
   * Counts one delivery attempt of `eventId`, whatever its outcome; returns the new count.
   * @throws the journal's write error; then nothing changed.
   */
  countAttempt(eventId: string): number {
    const n = (this.#attempts.get(eventId) ?? 0) + 1;
    this.#journal?.append({ op: 'attempts', eventId, attempts: n });
    this.#attempts.set(eventId, n);
    const stored = this.#events.get(eventId);
    if (stored) stored.attempts = n;
    return n;
  }

  /**
   * Records `event` unless its `eventId` is already stored; a repeat keeps the first
   * version unchanged and reports `duplicate: true`.
   * @throws the journal's write error; then nothing was recorded.
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
    this.#journal?.append({ op: 'event', event: stored });
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

  /**
   * Forgets every event and attempt count, and empties the journal.
   * @throws the journal's error (closed, or the file system's); then nothing was forgotten.
   */
  clear(): void {
    this.#journal?.truncate();
    this.#events.clear();
    this.#attempts.clear();
  }

  /** Closes the journal (idempotent; a no-op in memory). Changes afterwards throw. */
  close(): void {
    this.#journal?.close();
  }

  /** Applies the journal's entries: the first version of an event is kept, the last attempt count wins. */
  #replay(entries: JournalEntry[]): void {
    for (const entry of entries) {
      if (entry.op === 'attempts') {
        this.#attempts.set(entry.eventId, entry.attempts);
      } else if (!this.#events.has(entry.event.eventId)) {
        this.#events.set(entry.event.eventId, { ...entry.event });
      }
    }
    for (const [eventId, event] of this.#events) {
      const attempts = this.#attempts.get(eventId);
      if (attempts === undefined) this.#attempts.set(eventId, event.attempts);
      else event.attempts = attempts;
    }
  }
}

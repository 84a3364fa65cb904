/**
 * The append-only JSON-lines file behind the mock data platform's event store, so that
 * what it received survives its restarts and exactly-once at the receiver can be checked
 * across them. One line per change: `{"op":"event","event":{...}}` when an event is first
 * recorded, `{"op":"attempts","eventId":"...","attempts":n}` when its attempt count grows.
 *
 * Durability: each line is written with one synchronous `write` before the request is
 * answered, so it survives a killed process (the kernel has it); there is no fsync per
 * write, so a power loss may lose the last lines, which is enough for a mock. One process
 * per file: two mocks appending to the same file would interleave their histories.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ReceivedEvent } from './schemas.ts';

const ReceivedEventSchema = z.object({
  eventId: z.string(),
  type: z.string(),
  occurredAt: z.string(),
  payload: z.record(z.string(), z.unknown()),
  receivedAt: z.string(),
  attempts: z.number().int().min(0),
});

const JournalEntrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('event'), event: ReceivedEventSchema }),
  z.object({ op: z.literal('attempts'), eventId: z.string(), attempts: z.number().int().min(0) }),
]);

/**
 * One line of the journal: an event as first recorded (`attempts` as of then), or the new
 * attempt count of an event id (a count, not a delta: the last one read wins).
 */
export type JournalEntry = { op: 'event'; event: ReceivedEvent } | { op: 'attempts'; eventId: string; attempts: number };

/** What {@link EventJournal.open} read back from an existing file. */
export type JournalContents = {
  /** The complete lines, in the order they were written. */
  entries: JournalEntry[];
  /**
   * Bytes of a torn last line (no newline: the writer was killed mid-write), dropped from
   * the file so the next line starts clean; 0 when the file ended cleanly.
   */
  tornBytes: number;
};

/** An open journal file: appends lines, empties itself, closes. Not safe to share between processes. */
export class EventJournal {
  /** The file's path, as given to {@link EventJournal.open}. */
  readonly path: string;
  #fd: number | undefined;

  private constructor(file: string, fd: number) {
    this.path = file;
    this.#fd = fd;
  }

  /**
   * Opens (creating it and its directory when missing) the journal at `file`, relative to
   * the working directory, and reads back its complete lines.
   *
   * @throws the file system's error (EACCES, ENOTDIR, ...), or an Error naming the file and
   *   line when a complete line is not a journal entry (a file that is not ours, or edited).
   */
  static open(file: string): { journal: EventJournal; contents: JournalContents } {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const fd = openSync(file, 'a+');
    try {
      const bytes = readFileSync(file);
      const end = bytes.lastIndexOf(0x0a) + 1;
      const tornBytes = bytes.length - end;
      // A line holds no raw newline (JSON escapes it), so only a killed write lacks one.
      if (tornBytes > 0) ftruncateSync(fd, end);
      const entries = parseLines(file, bytes.subarray(0, end).toString('utf8'));
      return { journal: new EventJournal(file, fd), contents: { entries, tornBytes } };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Appends `entry` as one line, synchronously (in the kernel when this returns; no fsync).
   * @throws Error when the journal is closed, or the file system's error (ENOSPC, ...).
   */
  append(entry: JournalEntry): void {
    const fd = this.#openFd();
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    let written = 0;
    while (written < line.length) written += writeSync(fd, line, written, line.length - written);
  }

  /**
   * Empties the file; later appends start at its beginning.
   * @throws Error when the journal is closed, or the file system's error.
   */
  truncate(): void {
    ftruncateSync(this.#openFd(), 0);
  }

  /** Closes the file; idempotent. Appends afterwards throw. */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }

  #openFd(): number {
    if (this.#fd === undefined) throw new Error(`The data platform journal ${this.path} is closed`);
    return this.#fd;
  }
}

function parseLines(file: string, text: string): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      entries.push(JournalEntrySchema.parse(JSON.parse(line)));
    } catch (err) {
      const reason = err instanceof z.ZodError ? 'not a journal entry' : 'not JSON';
      throw new Error(`${file}:${i + 1}: ${reason}; move the file away or empty DATA_PLATFORM_STORE_PATH`, { cause: err });
    }
  }
  return entries;
}

/**
 * Line prefixes for `npm start` (scripts/start-all.ts), which runs several processes in
 * one terminal: every line a process writes is shown as `<name padded> | <line>`, the
 * name in a colour of its own, so interleaved output stays attributable.
 */
import { StringDecoder } from 'node:string_decoder';

/** Something that takes text, like a stream's `write`. */
export type TextSink = { write(text: string): unknown };

/** A writable for text or bytes that emits whole lines, each with a prefix. */
export type LinePrefixer = {
  /** Takes output in chunks of any size; complete lines are written at once. */
  write(chunk: string | Uint8Array): boolean;
  /** Writes the last line if it did not end with a newline (with its prefix and one). */
  end(): void;
};

const ANSI_COLOURS = [36, 32, 35, 34, 33, 96, 92, 95] as const;

/**
 * The prefix `name` gets among `names`: padded to the longest name, then ` | `, in the
 * colour of its position among `names` when `colour` is set.
 */
export function partPrefix(name: string, names: readonly string[], colour: boolean): string {
  const width = Math.max(name.length, ...names.map((n) => n.length));
  const text = `${name.padEnd(width)} | `;
  if (!colour) return text;
  const index = Math.max(names.indexOf(name), 0);
  return `\x1b[${ANSI_COLOURS[index % ANSI_COLOURS.length]}m${text}\x1b[39m`;
}

/**
 * Creates a prefixer writing to `out`. A chunk may end mid-line or mid-character (UTF-8
 * is decoded across chunks); the unfinished line waits for its end, or for {@link
 * LinePrefixer.end}. `\r\n` counts as one line end.
 */
export function createLinePrefixer(prefix: string, out: TextSink): LinePrefixer {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (text: string) => {
    const lines = text.split('\n');
    pending = lines.pop() ?? '';
    if (lines.length > 0) out.write(lines.map((l) => `${prefix}${l.replace(/\r$/, '')}\n`).join(''));
  };
  return {
    write(chunk) {
      emit(pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk)));
      return true;
    },
    end() {
      const rest = pending + decoder.end();
      pending = '';
      if (rest) out.write(`${prefix}${rest.replace(/\r$/, '')}\n`);
    },
  };
}

/**
 * The wake-up loop shared by the worker's background drivers (the queue admission driver,
 * the outbox relay): it runs a `pass` whenever there may be work, and sleeps otherwise.
 *
 * What wakes it:
 * - a PostgreSQL NOTIFY on `channel`: the loop LISTENs on a connection of its own (not
 *   one of the ORM's pool), reconnects after losing it, and passes at once after each
 *   (re)connect, to cover whatever was announced while it was not listening;
 * - the deadline the last pass returned (the next moment some work falls due);
 * - a safety poll every `pollMs`, which bounds how late it notices anything else.
 * Notifications that arrive during a pass make the loop pass again right after it, so
 * none is lost and a burst of them costs one extra pass, not one per notification.
 */
import pg from 'pg';
import type { Logger } from 'pino';

/** Settings of {@link startListenLoop}. */
export interface ListenLoopOptions {
  /** Name of the driver in log lines (e.g. `queue admission`). */
  name: string;
  /** PostgreSQL connection URL to LISTEN on. */
  databaseUrl: string;
  /** The NOTIFY channel; a plain SQL identifier (it is written into `LISTEN <channel>`). */
  channel: string;
  /** The safety poll, in ms. */
  pollMs: number;
  /**
   * One pass over the work; resolves with the next moment work falls due (null: none
   * known), at which the loop wakes unless something wakes it earlier. A pass that throws
   * is logged and retried on the next wake-up.
   */
  pass: () => Promise<Date | null>;
}

/** A running loop: `stop()` ends the loop and its LISTEN connection and resolves when both are done. */
export interface ListenLoop {
  stop(): Promise<void>;
  /** Waits for the pass in progress (if any), runs one more pass and resolves when it is done (tests). */
  passNow(): Promise<void>;
}

/** How long to wait before reconnecting a lost LISTEN connection, in ms. */
const RECONNECT_DELAY_MS = 1_000;

/**
 * Slack added to a deadline before waking for it, in ms, so that the pass runs after the
 * moment rather than a hair before it (timers and clocks round).
 */
const DEADLINE_SLACK_MS = 5;

/** Starts the loop: a first pass at once, then as described in the module comment. */
export function startListenLoop(log: Logger, options: ListenLoopOptions): ListenLoop {
  let running = true;
  let dirty = true;
  let wake: (() => void) | undefined;
  let listener: pg.Client | undefined;
  let current: Promise<void> = Promise.resolve();

  const poke = () => {
    dirty = true;
    wake?.();
  };

  const listen = async (): Promise<void> => {
    while (running && !listener) {
      const client = new pg.Client({ connectionString: options.databaseUrl });
      try {
        client.on('notification', poke);
        client.on('error', (err) => {
          log.warn({ err }, `${options.name}: LISTEN connection lost; reconnecting`);
          if (listener === client) listener = undefined;
          void client.end().catch(() => undefined);
          if (running) setTimeout(() => void listen(), RECONNECT_DELAY_MS).unref();
        });
        await client.connect();
        await client.query(`LISTEN ${options.channel}`);
        if (!running) {
          await client.end().catch(() => undefined);
          return;
        }
        listener = client;
        poke(); // whatever was announced while not listening
      } catch (err) {
        log.warn({ err }, `${options.name}: cannot LISTEN; polling only until it can`);
        await client.end().catch(() => undefined);
        await sleep(RECONNECT_DELAY_MS);
      }
    }
  };

  const waitForWake = (deadline: Date | null) =>
    new Promise<void>((resolve) => {
      const untilDeadline = deadline ? Math.max(0, deadline.getTime() - Date.now()) + DEADLINE_SLACK_MS : options.pollMs;
      const timer = setTimeout(resolve, Math.min(options.pollMs, untilDeadline));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (dirty || !running) wake();
    });

  const loop = async (): Promise<void> => {
    while (running) {
      let deadline: Date | null = null;
      if (dirty) {
        dirty = false;
        try {
          const pending = options.pass();
          current = pending.then(() => undefined, () => undefined);
          deadline = await pending;
        } catch (err) {
          log.warn({ err }, `${options.name} pass failed; retrying on the next poll`);
        }
      }
      await waitForWake(deadline);
      wake = undefined;
      dirty = true;
    }
  };

  void listen();
  const looping = loop();
  return {
    async passNow() {
      await current;
      await options.pass();
    },
    async stop() {
      running = false;
      wake?.();
      await looping;
      await listener?.end().catch(() => undefined);
      listener = undefined;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

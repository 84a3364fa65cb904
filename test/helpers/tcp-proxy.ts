/**
 * A fault-injecting TCP proxy in front of PostgreSQL, for reliability tests: the worker's
 * ORM connects through it while the test checks the database directly.
 *
 * Faults:
 * - {@link PgFaultProxy.cutAll}: destroys every open connection (both sides), as a
 *   network failure or a killed backend would;
 * - {@link PgFaultProxy.refuse}: new connections are closed (or reset) as soon as they are
 *   accepted, until {@link PgFaultProxy.resume};
 * - {@link PgFaultProxy.dropAtCommit}: the ambiguous commit. When a transaction matching a
 *   rule sends COMMIT, the proxy either forwards the COMMIT and then drops the connection
 *   before the server's reply reaches the client (`forward: true`: the commit applied, the
 *   client cannot know), or drops it without forwarding (`forward: false`: the server
 *   rolls back);
 * - {@link PgFaultProxy.stallAtCommit}: the silent network failure. The COMMIT of a
 *   matching transaction and everything after it is swallowed in both directions, and
 *   nothing is closed: the server waits, idle in the transaction and holding its locks, for
 *   a client whose query never gets an answer.
 *
 * Client-to-server traffic is split into protocol messages (v3 frames) so that the proxy
 * knows where a transaction begins and where its COMMIT is; server-to-client traffic is
 * relayed as is. Every change of {@link ProxyStats} is an event that {@link PgFaultProxy.until}
 * can await, so tests never sleep to wait for traffic.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';

/** Counters of the proxy; `commits` counts COMMITs forwarded to the server. */
export interface ProxyStats {
  /** Connections accepted and relayed. */
  accepted: number;
  /** Connections currently open. */
  open: number;
  /** Connections closed or reset at once by {@link PgFaultProxy.refuse}. */
  refused: number;
  /** Connections destroyed by {@link PgFaultProxy.cutAll}. */
  cut: number;
  /** COMMIT messages forwarded to the server. */
  commits: number;
  /** Connections dropped at a COMMIT by {@link PgFaultProxy.dropAtCommit}. */
  droppedAtCommit: number;
  /** Connections gone silent at a COMMIT by {@link PgFaultProxy.stallAtCommit}. */
  stalledAtCommit: number;
}

/** A transaction seen by the proxy: its statements and parameters (text) and how it ended. */
export interface ProxyTransaction {
  /** SQL text of its Query/Parse messages and the raw bytes of its Bind messages, as latin1. */
  text: string;
  /** `commit`: the COMMIT was forwarded and its reply relayed; `rollback`: rolled back by the client; the rest: dropped by a fault. */
  end: 'commit' | 'rollback' | 'dropped-after-commit-sent' | 'dropped-before-commit-sent' | 'stalled' | 'cut';
}

/** A rule of {@link PgFaultProxy.dropAtCommit}. */
export interface CommitDropRule {
  /** Which transactions: tested against {@link ProxyTransaction.text}. */
  match: RegExp;
  /** How many matching COMMITs to drop. */
  times: number;
  /** true: forward the COMMIT, then drop (commit applied, reply lost); false: drop instead of forwarding it. */
  forward: boolean;
}

/** The proxy. */
export interface PgFaultProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string;
  stats(): ProxyStats;
  /** Destroys every open connection now; returns how many. `reset` sends TCP RST instead of FIN. */
  cutAll(options?: { reset?: boolean }): number;
  /** From now on closes (or resets) every new connection as soon as it is accepted. */
  refuse(options?: { reset?: boolean }): void;
  /** Accepts and relays new connections again. */
  resume(): void;
  /**
   * Arms `rule`; resolves with the dropped transactions once `rule.times` of them were
   * dropped. Rules are checked in the order they were armed; one COMMIT fires one rule.
   */
  dropAtCommit(rule: CommitDropRule): Promise<ProxyTransaction[]>;
  /**
   * Makes the connection of the next `times` transactions matching `match` go silent at
   * their COMMIT (see the file comment); resolves with them once all went silent.
   * {@link PgFaultProxy.cutAll} or {@link PgFaultProxy.close} finally closes them.
   */
  stallAtCommit(rule: { match: RegExp; times: number }): Promise<ProxyTransaction[]>;
  /** Every transaction that ended so far, in order (only while `record` was set at start). */
  transactions(): ProxyTransaction[];
  /** Resolves as soon as `predicate(stats)` holds (checked at every change of the counters). */
  until(predicate: (stats: ProxyStats) => boolean): Promise<ProxyStats>;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Options of {@link startPgFaultProxy}. */
export interface PgFaultProxyOptions {
  /** Where PostgreSQL listens. */
  target: { host: string; port: number };
  /** Keep every ended transaction for {@link PgFaultProxy.transactions}. Default false. */
  record?: boolean;
}

const PROTOCOL_V3 = 196_608;

interface ArmedRule {
  match: RegExp;
  times: number;
  action: 'drop-after-commit-sent' | 'drop-before-commit-sent' | 'stall';
  dropped: ProxyTransaction[];
  done: (txs: ProxyTransaction[]) => void;
}

/** Starts a proxy on an ephemeral port of 127.0.0.1. */
export async function startPgFaultProxy({ target, record = false }: PgFaultProxyOptions): Promise<PgFaultProxy> {
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const stats: ProxyStats = { accepted: 0, open: 0, refused: 0, cut: 0, commits: 0, droppedAtCommit: 0, stalledAtCommit: 0 };
  const bump = (key: keyof ProxyStats, by = 1) => {
    stats[key] += by;
    changes.emit('change');
  };
  const connections = new Set<Connection>();
  const rules: ArmedRule[] = [];
  const log: ProxyTransaction[] = [];
  let refusing: { reset: boolean } | undefined;

  const endTransaction = (tx: ProxyTransaction) => {
    if (record) log.push(tx);
  };

  class Connection {
    readonly client: net.Socket;
    readonly server: net.Socket;
    #pending: Buffer = Buffer.alloc(0);
    #startupDone = false;
    #tx: string | undefined;
    #severed = false;
    /** The server still has to read what was sent before the drop (the COMMIT): let it close by itself. */
    #draining = false;
    /** Gone silent at a COMMIT: nothing passes either way, and the client is never closed by the server's side. */
    #stalled = false;
    #closed = false;

    constructor(client: net.Socket) {
      this.client = client;
      this.server = net.connect(target.port, target.host);
      for (const socket of [client, this.server]) {
        socket.setNoDelay(true);
        // Errors are the point of this proxy: each one just ends the pair, except that a
        // stalled client never learns that the server went away.
        const end = () => {
          if (socket === client || !this.#stalled) this.destroy();
        };
        socket.on('error', end);
        socket.on('close', end);
      }
      this.server.on('data', (chunk: Buffer) => {
        if (!this.#severed) this.client.write(chunk);
      });
      client.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    }

    destroy(reset = false): void {
      if (!this.#closed) {
        this.#closed = true;
        connections.delete(this);
        if (this.#tx !== undefined) endTransaction({ text: this.#tx, end: 'cut' });
        this.#tx = undefined;
        bump('open', -1);
      }
      this.#severed = true;
      if (reset && !this.client.destroyed) this.client.resetAndDestroy();
      else this.client.destroy();
      if (!this.#draining) this.server.destroy();
    }

    #fromClient(chunk: Buffer): void {
      if (this.#severed) return;
      this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
      let offset = 0;
      const out: Buffer[] = [];
      while (!this.#severed) {
        const frame = this.#nextFrame(offset);
        if (!frame) break;
        offset = frame.end;
        const message = this.#pending.subarray(frame.start, frame.end);
        const commit = frame.type !== undefined && this.#inspect(frame.type, this.#pending.subarray(frame.bodyStart, frame.end));
        if (!commit) {
          out.push(message);
          continue;
        }
        const tx = this.#tx ?? '';
        this.#tx = undefined;
        const rule = rules.find((r) => r.dropped.length < r.times && r.match.test(tx));
        if (!rule) {
          out.push(message);
          bump('commits');
          endTransaction({ text: tx, end: 'commit' });
          continue;
        }
        this.#severed = true;
        const dropped: ProxyTransaction = {
          text: tx,
          end: rule.action === 'stall' ? 'stalled' : rule.action === 'drop-after-commit-sent' ? 'dropped-after-commit-sent' : 'dropped-before-commit-sent',
        };
        if (rule.action === 'drop-after-commit-sent') {
          // The server gets everything up to and including COMMIT, then end of stream: it
          // commits, and its reply goes nowhere.
          out.push(message);
          this.#draining = true;
          this.server.end(Buffer.concat(out));
          bump('commits');
          this.client.destroy();
        } else if (rule.action === 'drop-before-commit-sent') {
          this.server.destroy();
          this.client.destroy();
        } else {
          // Both sockets stay open; #severed swallows everything from now on.
          this.#stalled = true;
          if (out.length) this.server.write(Buffer.concat(out));
        }
        endTransaction(dropped);
        rule.dropped.push(dropped);
        bump(rule.action === 'stall' ? 'stalledAtCommit' : 'droppedAtCommit');
        if (rule.dropped.length === rule.times) rule.done(rule.dropped);
        return;
      }
      if (out.length) this.server.write(Buffer.concat(out));
      this.#pending = this.#pending.subarray(offset);
    }

    /** The next complete frame at `offset`, if any. Startup-phase frames have no type byte. */
    #nextFrame(offset: number): { start: number; bodyStart: number; end: number; type?: string } | undefined {
      const buf = this.#pending;
      if (!this.#startupDone) {
        if (buf.length - offset < 8) return undefined;
        const length = buf.readInt32BE(offset);
        if (buf.length - offset < length) return undefined;
        // SSL/GSS requests and cancel requests come before (or instead of) the startup message.
        if (buf.readInt32BE(offset + 4) === PROTOCOL_V3) this.#startupDone = true;
        return { start: offset, bodyStart: offset + 8, end: offset + length };
      }
      if (buf.length - offset < 5) return undefined;
      const length = buf.readInt32BE(offset + 1);
      if (buf.length - offset < 1 + length) return undefined;
      return { start: offset, bodyStart: offset + 5, end: offset + 1 + length, type: String.fromCharCode(buf[offset]!) };
    }

    /** Tracks the transaction; true when the message is a COMMIT of the simple query protocol. */
    #inspect(type: string, body: Buffer): boolean {
      if (type === 'Q' || type === 'P') {
        const text = type === 'Q' ? cString(body, 0) : cString(body, body.indexOf(0) + 1);
        if (/^\s*(begin|start\s+transaction)\b/i.test(text)) {
          this.#tx = '';
          return false;
        }
        if (this.#tx !== undefined && /^\s*rollback\s*;?\s*$/i.test(text)) {
          endTransaction({ text: this.#tx, end: 'rollback' });
          this.#tx = undefined;
          return false;
        }
        if (type === 'Q' && this.#tx !== undefined && /^\s*(commit|end)\s*;?\s*$/i.test(text)) return true;
        if (this.#tx !== undefined) this.#tx += `${text}\n`;
      } else if (type === 'B' && this.#tx !== undefined) {
        this.#tx += `${body.toString('latin1')}\n`;
      }
      return false;
    }
  }

  const server = net.createServer((socket) => {
    if (refusing) {
      socket.on('error', () => undefined);
      if (refusing.reset) socket.resetAndDestroy();
      else socket.destroy();
      bump('refused');
      return;
    }
    connections.add(new Connection(socket));
    stats.open += 1;
    bump('accepted');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    urlFor(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    stats: () => ({ ...stats }),
    cutAll({ reset = false } = {}) {
      const all = [...connections];
      for (const c of all) c.destroy(reset);
      if (all.length) bump('cut', all.length);
      return all.length;
    },
    refuse({ reset = false } = {}) {
      refusing = { reset };
    },
    resume() {
      refusing = undefined;
    },
    dropAtCommit({ match, times, forward }) {
      return new Promise((resolve) => {
        rules.push({ match, times, action: forward ? 'drop-after-commit-sent' : 'drop-before-commit-sent', dropped: [], done: resolve });
      });
    },
    stallAtCommit({ match, times }) {
      return new Promise((resolve) => {
        rules.push({ match, times, action: 'stall', dropped: [], done: resolve });
      });
    },
    transactions: () => [...log],
    until(predicate) {
      return new Promise((resolve) => {
        const check = () => {
          if (!predicate(stats)) return;
          changes.off('change', check);
          resolve({ ...stats });
        };
        changes.on('change', check);
        check();
      });
    },
    async close() {
      for (const c of [...connections]) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function cString(buf: Buffer, start: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 ? buf.length : end);
}

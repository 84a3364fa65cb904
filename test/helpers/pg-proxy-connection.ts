/**
 * One client connection of the PostgreSQL fault proxy (tcp-proxy.ts) and its connection
 * to the server. The server's bytes are relayed as they come; the client's are split into
 * protocol messages (v3 frames) to follow each transaction, and at a COMMIT the first
 * armed rule that matches the transaction fires: drop the connection after or before
 * forwarding the COMMIT, or let it go silent.
 */
import net from 'node:net';

/** A transaction seen by the proxy: its statements and parameters (text) and how it ended. */
export interface ProxyTransaction {
  /** SQL text of its Query/Parse messages and the raw bytes of its Bind messages, as latin1. */
  text: string;
  /** `commit`: the COMMIT was forwarded and its reply relayed; `rollback`: rolled back by the client; the rest: dropped by a fault. */
  end: 'commit' | 'rollback' | 'dropped-after-commit-sent' | 'dropped-before-commit-sent' | 'stalled' | 'cut';
}

/** A commit rule armed on the proxy: fires at the first `times` matching COMMITs, then calls `done` once with them. */
export interface ArmedRule {
  match: RegExp;
  times: number;
  action: 'drop-after-commit-sent' | 'drop-before-commit-sent' | 'stall';
  dropped: ProxyTransaction[];
  done: (txs: ProxyTransaction[]) => void;
}

/** What a {@link ProxyConnection} reads from its proxy and reports to it. */
export interface ConnectionHooks {
  /** Where PostgreSQL listens. */
  readonly target: { host: string; port: number };
  /** The armed rules, checked in the order they were armed; one COMMIT fires one rule. */
  readonly rules: readonly ArmedRule[];
  /** The connection closed (reported once). */
  closed(connection: ProxyConnection): void;
  /** A COMMIT was forwarded to the server. */
  committed(): void;
  /** A transaction ended, whichever way. */
  ended(tx: ProxyTransaction): void;
  /** `rule` fired at a COMMIT; the transaction is already in `rule.dropped`. */
  fired(rule: ArmedRule): void;
}

const PROTOCOL_V3 = 196_608;

/** A client connection relayed to a new connection to the server. */
export class ProxyConnection {
  readonly client: net.Socket;
  readonly server: net.Socket;
  readonly #hooks: ConnectionHooks;
  #pending: Buffer = Buffer.alloc(0);
  #startupDone = false;
  #tx: string | undefined;
  #severed = false;
  /** The server still has to read what was sent before the drop (the COMMIT): let it close by itself. */
  #draining = false;
  /** Gone silent at a COMMIT: nothing passes either way, and the client is never closed by the server's side. */
  #stalled = false;
  #closed = false;

  constructor(client: net.Socket, hooks: ConnectionHooks) {
    this.client = client;
    this.#hooks = hooks;
    this.server = net.connect(hooks.target.port, hooks.target.host);
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

  /** Closes both sides (the client with a TCP RST when `reset`); an open transaction ends as `cut`. */
  destroy(reset = false): void {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#tx !== undefined) this.#hooks.ended({ text: this.#tx, end: 'cut' });
      this.#tx = undefined;
      this.#hooks.closed(this);
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
      const rule = this.#hooks.rules.find((r) => r.dropped.length < r.times && r.match.test(tx));
      if (!rule) {
        out.push(message);
        this.#hooks.committed();
        this.#hooks.ended({ text: tx, end: 'commit' });
        continue;
      }
      this.#fire(rule, tx, message, out);
      return;
    }
    if (out.length) this.server.write(Buffer.concat(out));
    this.#pending = this.#pending.subarray(offset);
  }

  /** Applies `rule` to the COMMIT `message` of `tx`; `out` holds the messages before it, not sent yet. */
  #fire(rule: ArmedRule, tx: string, message: Buffer, out: Buffer[]): void {
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
      this.#hooks.committed();
      this.client.destroy();
    } else if (rule.action === 'drop-before-commit-sent') {
      this.server.destroy();
      this.client.destroy();
    } else {
      // Both sockets stay open; #severed swallows everything from now on.
      this.#stalled = true;
      if (out.length) this.server.write(Buffer.concat(out));
    }
    this.#hooks.ended(dropped);
    rule.dropped.push(dropped);
    this.#hooks.fired(rule);
    if (rule.dropped.length === rule.times) rule.done(rule.dropped);
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
        this.#hooks.ended({ text: this.#tx, end: 'rollback' });
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

function cString(buf: Buffer, start: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 ? buf.length : end);
}

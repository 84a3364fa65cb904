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
 * relayed as is (one relayed connection: pg-proxy-connection.ts). Every change of
 * {@link ProxyStats} is an event that {@link PgFaultProxy.until} can await, so tests never
 * sleep to wait for traffic.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ProxyConnection, type ArmedRule, type ConnectionHooks, type ProxyTransaction } from './pg-proxy-connection.ts';

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

/** Starts a proxy on an ephemeral port of 127.0.0.1. */
export async function startPgFaultProxy({ target, record = false }: PgFaultProxyOptions): Promise<PgFaultProxy> {
  const { stats, bump, until, connections, rules, log, hooks } = proxyState(target, record);
  let refusing: { reset: boolean } | undefined;
  const server = net.createServer((socket) => {
    if (refusing) {
      socket.on('error', () => undefined);
      if (refusing.reset) socket.resetAndDestroy();
      else socket.destroy();
      bump('refused');
      return;
    }
    connections.add(new ProxyConnection(socket, hooks));
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
    urlFor: (databaseUrl) => withHostPort(databaseUrl, port),
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
    dropAtCommit: ({ match, times, forward }) => arm(rules, match, times, forward ? 'drop-after-commit-sent' : 'drop-before-commit-sent'),
    stallAtCommit: ({ match, times }) => arm(rules, match, times, 'stall'),
    transactions: () => [...log],
    until,
    async close() {
      for (const c of [...connections]) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The proxy's counters (every change an event for {@link PgFaultProxy.until}), its open
 * connections, armed rules and transaction log, and the hooks its connections report to.
 */
function proxyState(target: PgFaultProxyOptions['target'], record: boolean) {
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const stats: ProxyStats = { accepted: 0, open: 0, refused: 0, cut: 0, commits: 0, droppedAtCommit: 0, stalledAtCommit: 0 };
  const bump = (key: keyof ProxyStats, by = 1) => {
    stats[key] += by;
    changes.emit('change');
  };
  const connections = new Set<ProxyConnection>();
  const rules: ArmedRule[] = [];
  const log: ProxyTransaction[] = [];
  const hooks: ConnectionHooks = {
    target,
    rules,
    closed(connection) {
      connections.delete(connection);
      bump('open', -1);
    },
    committed: () => bump('commits'),
    ended(tx) {
      if (record) log.push(tx);
    },
    fired: (rule) => bump(rule.action === 'stall' ? 'stalledAtCommit' : 'droppedAtCommit'),
  };
  const until = (predicate: (stats: ProxyStats) => boolean) =>
    new Promise<ProxyStats>((resolve) => {
      const check = () => {
        if (!predicate(stats)) return;
        changes.off('change', check);
        resolve({ ...stats });
      };
      changes.on('change', check);
      check();
    });
  return { stats, bump, until, connections, rules, log, hooks };
}

/** Arms a rule; resolves with the transactions it hit once it fired `times` times. */
function arm(rules: ArmedRule[], match: RegExp, times: number, action: ArmedRule['action']): Promise<ProxyTransaction[]> {
  return new Promise((resolve) => {
    rules.push({ match, times, action, dropped: [], done: resolve });
  });
}

/** `databaseUrl` with its host and port replaced by 127.0.0.1 and `port`. */
function withHostPort(databaseUrl: string, port: number): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

/**
 * The set-up steps of the real Temporal server that scripts/temporal-cluster.ts runs
 * around its start: the PostgreSQL schemas (deploy/temporal/schema.sh, the script
 * docker-compose.yml's `temporal-schema` job runs too), and the namespace with the sagas'
 * search attributes (what compose's `temporal-setup` job does with the Temporal CLI),
 * done here through the gRPC API so the cluster needs no CLI.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import pg from 'pg';
import { ALL_SAGA_SEARCH_ATTRIBUTES } from '../common/saga.ts';
import type { Logger } from '../config/logger.ts';
import { REPO_ROOT } from './temporal-cli.ts';

/** The folder of the server's configuration shared with docker-compose.yml. */
export const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy', 'temporal');

/** How long a namespace registered here keeps closed workflows (compose's NAMESPACE_RETENTION, 72h), in ms. */
export const NAMESPACE_RETENTION_MS = 72 * 3_600_000;

/** Where the two databases live: one PostgreSQL server, two database names. */
export type ClusterDatabases = {
  /** PostgreSQL URL of the persistence database (its path is the database name). */
  url: string;
  /** Name of the visibility database on the same server. */
  visibility: string;
};

/** Host, port, user, password and both database names of {@link ClusterDatabases}. */
export function databaseParts(dbs: ClusterDatabases): {
  host: string;
  port: string;
  user: string;
  password: string;
  persistence: string;
  visibility: string;
} {
  const url = new URL(dbs.url);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || '5432',
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
    persistence: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'temporal',
    visibility: dbs.visibility,
  };
}

/**
 * Drops both databases (for a run that must start from nothing, e.g. `npm run test:cluster`).
 * @throws pg's errors (no server, no permission).
 */
export async function dropDatabases(dbs: ClusterDatabases): Promise<void> {
  const parts = databaseParts(dbs);
  const admin = new URL(dbs.url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    for (const name of [parts.persistence, parts.visibility]) {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Creates both databases if missing and applies every schema version the SQL tool knows,
 * by running deploy/temporal/schema.sh with `sqlTool`. Idempotent (a second run applies
 * nothing). The tool's output goes to `log` at debug.
 *
 * @throws Error with the tool's last output lines when the script fails.
 */
export async function migrateSchemas(sqlTool: string, dbs: ClusterDatabases, log: Logger): Promise<void> {
  const p = databaseParts(dbs);
  const env = {
    PATH: process.env.PATH ?? '',
    TEMPORAL_SQL_TOOL: sqlTool,
    SQL_HOST: p.host,
    SQL_PORT: p.port,
    SQL_USER: p.user,
    SQL_PASSWORD: p.password,
    DBNAME: p.persistence,
    VISIBILITY_DBNAME: p.visibility,
  };
  const child = spawn('sh', [path.join(DEPLOY_DIR, 'schema.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 30) lines.shift();
      log.debug({ source: 'temporal-sql-tool' }, line);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  if (code !== 0) {
    throw new Error(`The schema set-up (deploy/temporal/schema.sh) failed with exit ${code}. Last output:\n${lines.join('\n')}`);
  }
}

/** `Name=Type` of every custom search attribute the sagas set (common/saga.ts), as compose registers them. */
export function sagaSearchAttributeSpecs(): string[] {
  const names: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', DATETIME: 'Datetime', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool' };
  return ALL_SAGA_SEARCH_ATTRIBUTES.map((key) => `${key.name}=${names[key.type] ?? key.type}`);
}

const IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
const GRPC_ALREADY_EXISTS = 6;

/**
 * Registers `namespace` (retention {@link NAMESPACE_RETENTION_MS}) and the sagas' search
 * attributes on the server at `address`, then waits until the namespace serves a
 * visibility query on those attributes. Safe to run again: an existing namespace and
 * attributes already registered are left as they are.
 *
 * Waits out what a fresh real server needs: its frontend answers before every service
 * has joined, and a new namespace is usable only once each service's namespace cache
 * has refreshed (every 2 s); every call is retried until `deadline` (epoch ms).
 *
 * @throws Error when an attribute is registered with another type, or when the server is
 *   not ready by `deadline` (with the last error).
 */
export async function registerNamespace(address: string, namespace: string, deadline: number): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: Math.max(deadline - Date.now(), 1) });
  try {
    const call = <T>(fn: () => Promise<T>) => connection.withDeadline(Math.min(deadline, Date.now() + 10_000), fn);
    await retryUntil(deadline, 'the namespace', async () => {
      try {
        await call(() =>
          connection.workflowService.registerNamespace({
            namespace,
            workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION_MS),
          }),
        );
      } catch (err) {
        if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
      }
    });
    const wanted = ALL_SAGA_SEARCH_ATTRIBUTES.map((k) => ({ name: k.name, type: IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`] }));
    await retryUntil(deadline, 'the search attributes', async () => {
      const existing = (await call(() => connection.operatorService.listSearchAttributes({ namespace }))).customAttributes ?? {};
      const missing = wanted.filter((w) => existing[w.name] === undefined);
      for (const w of wanted) {
        const has = existing[w.name];
        if (has !== undefined && has !== w.type) {
          throw new FatalSetupError(`Search attribute ${w.name} is registered on ${namespace} as ${IndexedValueType[has]}, not ${IndexedValueType[w.type]}.`);
        }
      }
      if (missing.length === 0) return;
      await call(() =>
        connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((m) => [m.name, m.type])),
        }),
      );
      throw new Error(`registered ${missing.map((m) => m.name).join(', ')}; checking again`);
    });
    // The frontend resolves a namespace through its cache: a list by a custom attribute
    // succeeds once the namespace and its attributes are usable for workflows.
    await retryUntil(deadline, 'a visibility query', () =>
      call(() => connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1, query: 'SagaStatus = "READY-PROBE"' })),
    );
  } finally {
    await connection.close();
  }
}

/** An error no retry can fix. */
class FatalSetupError extends Error {}

async function retryUntil(deadline: number, what: string, attempt: () => Promise<unknown>): Promise<void> {
  let last: unknown;
  do {
    try {
      await attempt();
      return;
    } catch (err) {
      if (err instanceof FatalSetupError) throw err;
      last = err;
    }
    await sleep(250);
  } while (Date.now() < deadline);
  throw new Error(`The Temporal server was not ready for ${what} in time: ${last instanceof Error ? last.message : String(last)}`);
}

/**
 * `npm start`: the whole service on embedded defaults, in one command.
 * 1. the Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS already answers);
 * 2. migrations and the demo catalog on PostgreSQL;
 * 3. the mock data platform, the worker and the API, each as its own process (the same
 *    entry points as `npm run data-platform`, `npm run worker`, `npm run api`).
 * It prints where each one is and an example curl. Ctrl-C stops all of them cleanly.
 * The mock data platform keeps what it received in DATA_PLATFORM_STORE_PATH (default
 * `.data-platform/events.jsonl` under the repo, the children's working directory), so
 * after a second `npm start` on the same database `npm run check:invariants` still finds
 * every event delivered before.
 *
 * With `LOG_FORMAT=pretty` (the default in a terminal) every line of every process gets
 * a coloured prefix naming it (`api           | ...`): the children write to pipes
 * here, which this process prefixes line by line, and they are told the format (and
 * colours) explicitly since their stdout is no terminal. With `json` they write straight
 * to this process's stdout, as one JSON stream with a `service` field per line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { isColorSupported } from 'pino-pretty';
import { loadConfig } from '../config/index.ts';
import { createLogger, type CreateLoggerOptions } from '../config/logger.ts';
import { metricsUrlOf } from '../config/metrics-address.ts';
import { createLinePrefixer, partPrefix } from './line-prefixer.ts';
import { REPO_ROOT } from './temporal-cli.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';
import { setUpDatabase } from './db-setup.ts';
import { waitForHttp } from './wait.ts';

const config = loadConfig();

const PARTS = [
  { name: 'data-platform', entry: 'data-platform/main.ts' },
  { name: 'worker', entry: 'worker/main.ts' },
  { name: 'api', entry: 'api/server.ts' },
] as const;

/** Every process whose output is shown, in the order of their prefix colours. */
const NAMES = ['start-all', 'temporal', ...PARTS.map((p) => p.name)];
const pretty = config.logFormat === 'pretty';
const colour = pretty && isColorSupported;

/** Logger options of an in-process logger shown under `name`. */
function loggerOptions(name: string): CreateLoggerOptions {
  return pretty ? { destination: createLinePrefixer(partPrefix(name, NAMES, colour), process.stdout), colorize: colour } : {};
}

const log = createLogger(config, 'start-all', loggerOptions('start-all'));

/** The demo's cap on ACTIVE queue tokens per performance (production default: 50). */
const DEMO_QUEUE_ACTIVE_LIMIT = '3';
// The dev server's own output is forwarded to this logger (scripts/temporal-dev-server.ts).
const temporalLog = createLogger(config, 'temporal', loggerOptions('temporal'));

/**
 * The children's environment: ours, plus the log format (and colours) they cannot detect
 * behind a pipe, and a waiting queue of 3 ACTIVE tokens per performance unless
 * QUEUE_ACTIVE_LIMIT says otherwise, so the demo's queue is visible with a few users.
 */
const childEnv: NodeJS.ProcessEnv = {
  QUEUE_ACTIVE_LIMIT: DEMO_QUEUE_ACTIVE_LIMIT,
  ...process.env,
  LOG_FORMAT: config.logFormat,
  ...(colour ? { FORCE_COLOR: '1' } : {}),
};

const children: { child: ChildProcess; closed: Promise<unknown> }[] = [];
let stopping = false;

function startPart(name: string, entry: string): ChildProcess {
  const child = spawn(process.execPath, [entry], {
    cwd: REPO_ROOT,
    stdio: pretty ? ['inherit', 'pipe', 'pipe'] : 'inherit',
    env: childEnv,
  });
  if (pretty) {
    const prefix = partPrefix(name, NAMES, colour);
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      const lines = createLinePrefixer(prefix, to);
      from?.on('data', (chunk: Buffer) => lines.write(chunk));
      from?.on('end', () => lines.end());
    }
  }
  // 'close' comes after the child's pipes are drained, so no last line is lost.
  const closed = once(child, 'close');
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log.error({ part: name, code, signal }, 'a part exited; stopping everything');
      void shutdown(1);
    }
  });
  children.push({ child, closed });
  return child;
}

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping');
  // Reverse start order: the API stops taking requests before the worker drains.
  for (const { child, closed } of [...children].reverse()) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await closed;
  }
  await temporal?.stop();
  process.exit(exitCode);
}

/** Where a Prometheus endpoint is scraped from this machine, or `off`. */
function metricsUrlOrOff(address: string | undefined): string {
  return address ? metricsUrlOf(address) : 'off';
}

/** Where the mock data platform keeps its events: a file (relative paths: under the repo), or in memory. */
function dataPlatformStoreLine(storePath: string | undefined): string {
  if (!storePath) return 'events kept in memory (DATA_PLATFORM_STORE_PATH is empty)';
  const relative = path.relative(REPO_ROOT, path.resolve(REPO_ROOT, storePath));
  return `events kept in ${relative.startsWith('..') || path.isAbsolute(relative) ? storePath : relative}`;
}

/** Where tokens come from: the development issuer (npm run token) or the configured identity provider. */
function tokenLine(apiUrl: string): string {
  return config.auth.devIssuer
    ? `npm run token -- --user <id> [--operator] (development issuer, keys in ${config.auth.devIssuer.keysDir}/, JWKS ${apiUrl}/.well-known/jwks.json)`
    : `from ${config.auth.issuer ?? '(AUTH_ISSUER unset)'} (AUTH_JWKS_URL)`;
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

let temporal: Awaited<ReturnType<typeof startTemporalDevServer>> | undefined;
try {
  temporal = await startTemporalDevServer(config, temporalLog);
  await setUpDatabase(config, log);
  for (const part of PARTS) startPart(part.name, part.entry);
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  const dataPlatformUrl = config.dataPlatform.url;
  await waitForHttp(`${apiUrl}/healthz`, 60_000);
  await waitForHttp(`${dataPlatformUrl}/healthz`, 10_000);
  process.stdout.write(
    [
      '',
      'Everything is up:',
      `  API                 ${apiUrl}`,
      `  API reference       ${apiUrl}/docs (OpenAPI document: ${apiUrl}/openapi.json)`,
      `  Temporal Web UI     ${temporal.uiUrl ?? '(reused server; its UI is wherever it runs)'}`,
      `  Temporal frontend   ${temporal.address} (namespace ${config.temporal.namespace})`,
      `  Mock data platform  ${dataPlatformUrl}/events (${dataPlatformStoreLine(config.dataPlatform.storePath)})`,
      `  Metrics (local)     API ${metricsUrlOrOff(config.api.metricsAddress)}, worker ${metricsUrlOrOff(config.worker.metricsAddress)}`,
      '',
      `Tokens              ${tokenLine(apiUrl)}`,
      '',
      'Place an order (user 1 has 1,000,000 points; product 1 costs 89,000 won):',
      '  TOKEN=$(npm run -s token -- --user 1)',
      `  curl -s -X POST ${apiUrl}/orders -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
      `       -H "Idempotency-Key: demo-$(date +%s)" -d '{"items":[{"productId":1,"quantity":1}]}'`,
      '',
      'Press Ctrl-C to stop everything.',
      '',
    ].join('\n'),
  );
} catch (err) {
  log.error({ err }, 'start-up failed');
  process.stderr.write(`\n${(err as Error).message}\n`);
  await shutdown(1);
}

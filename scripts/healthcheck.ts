/**
 * Container health check (Dockerfile HEALTHCHECK, docker-compose `healthcheck`):
 * `node dist/scripts/healthcheck.js [api|data-platform|worker]` exits 0 when that part of
 * the service answers on this host, 1 otherwise.
 * - api: `GET /healthz` (503 while PostgreSQL or Temporal is unreachable);
 * - data-platform: `GET /healthz` of the mock;
 * - worker: its Prometheus endpoint (`WORKER_METRICS_ADDRESS`), served by the Temporal
 *   Runtime, so it answers while the worker's core runs; healthy when metrics are off.
 * Without an argument it finds the part from the processes running in the container (one
 * image runs every part), and a container running none of them (db-setup) is healthy.
 */
import { readdir, readFile } from 'node:fs/promises';
import { loadConfig, type AppConfig } from '../config/index.ts';
import { loopbackIfWildcard as localHost, metricsUrlOf } from '../config/metrics-address.ts';

/** The parts with something to check, by the entry point that runs them. */
const PARTS = {
  api: /(^|\/)api\/server\.(js|ts)$/,
  'data-platform': /(^|\/)data-platform\/main\.(js|ts)$/,
  worker: /(^|\/)worker\/main\.(js|ts)$/,
} as const;

export type Part = keyof typeof PARTS;

/** The URL that answers 2xx when `part` is healthy, or `undefined` when nothing can be checked. */
export function healthUrl(part: Part, config: AppConfig): string | undefined {
  switch (part) {
    case 'api':
      return `http://${localHost(config.api.host)}:${config.api.port}/healthz`;
    case 'data-platform':
      return `http://${localHost(config.dataPlatform.host)}:${config.dataPlatform.port}/healthz`;
    case 'worker': {
      const address = config.worker.metricsAddress;
      return address ? metricsUrlOf(address) : undefined;
    }
  }
}

/** The part whose entry point a process in this container (Linux /proc) runs, if any. */
async function detectPart(): Promise<Part | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    const args = await readFile(`/proc/${pid}/cmdline`, 'utf8').then((s) => s.split('\0'), () => []);
    for (const [part, entry] of Object.entries(PARTS)) {
      if (args.some((a) => entry.test(a))) return part as Part;
    }
  }
  return undefined;
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  if (arg !== undefined && !(arg in PARTS)) {
    process.stderr.write(`unknown part "${arg}": expected ${Object.keys(PARTS).join(', ')}\n`);
    return 2;
  }
  const part = (arg as Part | undefined) ?? (await detectPart());
  if (!part) return 0;
  const url = healthUrl(part, loadConfig());
  if (!url) return 0;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_500) });
    if (res.ok) return 0;
    process.stderr.write(`${part}: ${url} answered ${res.status}\n`);
  } catch (err) {
    process.stderr.write(`${part}: ${url}: ${(err as Error).message}\n`);
  }
  return 1;
}

if (import.meta.main) {
  process.exitCode = await main();
}

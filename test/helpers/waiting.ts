/**
 * Waiting for events instead of sleeping: poll a condition until it holds, wait for a TCP
 * port to open or to close, and pick a free port to start a server on.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect } from '../../scripts/temporal-dev-server.ts';
import type { Part } from './parts.ts';

/**
 * Polls `condition` every `intervalMs` (default 100) until it returns true.
 * @throws Error naming `what` after `timeoutMs` (default 60 s); rethrows what `condition` throws.
 */
export async function pollUntil(
  what: string,
  condition: () => Promise<boolean> | boolean,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(opts.intervalMs ?? 100);
  }
}

/** A free TCP port on `host` (bound and released at once; good enough for tests). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Resolves once `host:port` accepts TCP connections.
 * @throws Error after `timeoutMs`, or as soon as `part` (when given) exits.
 */
export async function waitForPort(host: string, port: number, timeoutMs = 60_000, part?: Part): Promise<void> {
  await pollUntil(`${host}:${port} to accept connections`, async () => {
    if (part?.hasExited()) throw new Error(`${part.name} exited while waiting for port ${port}`);
    return canConnect(host, port, 500);
  }, { timeoutMs, intervalMs: 100 });
}

/** Resolves once nothing accepts connections on `host:port` any more. */
export async function waitForPortClosed(host: string, port: number, timeoutMs = 30_000): Promise<void> {
  await pollUntil(`${host}:${port} to close`, async () => !(await canConnect(host, port, 500)), { timeoutMs, intervalMs: 100 });
}

/**
 * The API's Prometheus endpoint, on a listener of its own (`API_METRICS_ADDRESS`, loopback
 * by default), never on the public API port: process and request metrics name routes,
 * statuses and load, which are for operators, not for every client. The worker's endpoint
 * (`WORKER_METRICS_ADDRESS`, served by the Temporal Runtime) takes the same address syntax
 * (config/metrics-address.ts) and behaves the same when its address is taken.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../config/logger.ts';
import { metricsUrlOf, parseMetricsAddress } from '../../config/metrics-address.ts';

/** The path the listener serves; every other path answers 404. */
export const METRICS_PATH = '/metrics';

/** A listening metrics endpoint. */
export interface RunningMetricsListener {
  /** `http://<host>:<port>/metrics`, with the port actually bound (the address may ask for 0). */
  url: string;
  server: Server;
  /** Stops listening and cuts open connections (a scrape is safe to lose); resolves when closed. */
  close(): Promise<void>;
}

/**
 * Serves `registry` at `http://<address>/metrics`: `GET`/`HEAD` answer 200 in the
 * Prometheus text format (the registry's content type); another method on that path 405
 * (`Allow: GET, HEAD`); any other path 404; a failing collection 500. Plain-text answers:
 * this is a scrape target, not the API.
 *
 * `address` is an `ip:port` (config/metrics-address.ts; port 0 picks a free one). When it
 * cannot be bound (another API replica on this host already serves it), the API runs
 * without metrics and says so at error level, like the worker: answering requests matters
 * more than exporting numbers about them, and a scraper sees the missing target anyway.
 *
 * @returns the listener, or undefined when the address could not be bound.
 * @throws Error when `address` is not an `ip:port` (config/env.ts refuses those first).
 */
export async function startMetricsListener(registry: Registry, address: string, log: Logger): Promise<RunningMetricsListener | undefined> {
  const parsed = parseMetricsAddress(address);
  if (!parsed) throw new Error(`API_METRICS_ADDRESS: not an ip:port: ${address}`);
  const server = createServer((req, res) => void answer(registry, req, res, log));
  const bindError = await new Promise<Error | undefined>((resolve) => {
    server.once('error', resolve);
    server.once('listening', () => {
      server.off('error', resolve);
      resolve(undefined);
    });
    server.listen(parsed.port, parsed.host);
  });
  if (bindError) {
    log.error({ err: bindError, metricsAddress: address }, 'API metrics listener could not start; running without metrics');
    return undefined;
  }
  server.on('error', (err) => log.error({ err }, 'API metrics listener failed'));
  const { port } = server.address() as AddressInfo;
  return {
    url: metricsUrlOf({ host: parsed.host, port }),
    server,
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}

async function answer(registry: Registry, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== METRICS_PATH) return plain(res, 404, 'Not Found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, 'Method Not Allowed\n');
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (err) {
    log.error({ err }, 'API metrics collection failed');
    plain(res, 500, 'Internal Server Error\n');
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

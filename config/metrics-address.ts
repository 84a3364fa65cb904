/**
 * The address of a process's Prometheus endpoint, shared by the worker (served by the
 * Temporal Runtime, `WORKER_METRICS_ADDRESS`), the API (its own listener,
 * `API_METRICS_ADDRESS`) and the container health check: one syntax, one way to parse
 * it, one URL. Both endpoints listen apart from the public API port, on loopback by
 * default. Nothing here reads `process.env`.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A parsed metrics address: the IP literal to listen on (IPv6 without brackets) and the port. */
export interface MetricsAddress {
  host: string;
  /** 0..65535; 0 asks the system for a free port (tests). */
  port: number;
}

const SOCKET_ADDRESS = /^(?:([\d.]+)|\[([0-9A-Fa-f:.]+)\]):(\d{1,5})$/;

/**
 * Parses `<IPv4>:<port>` or `[<IPv6>]:<port>` (what a Rust `SocketAddr` parses, so the
 * Temporal Runtime and the API accept the same values), or `undefined` when `value` is
 * anything else (a host name, a missing port, a port above 65535).
 */
export function parseMetricsAddress(value: string): MetricsAddress | undefined {
  const m = SOCKET_ADDRESS.exec(value);
  if (!m || Number(m[3]) > 65535) return undefined;
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined ? !isIPv4(host) : !isIPv6(host)) return undefined;
  return { host, port: Number(m[3]) };
}

/** Whether `value` is a metrics address {@link parseMetricsAddress} accepts. */
export function isMetricsAddress(value: string): boolean {
  return parseMetricsAddress(value) !== undefined;
}

/**
 * The URL a scraper on this host reaches a metrics endpoint at:
 * `http://<host>:<port>/metrics`, a wildcard address (`0.0.0.0`, `::`) reached on loopback.
 *
 * @throws Error when `address` is not a metrics address (config/env.ts refuses those first).
 */
export function metricsUrlOf(address: string | MetricsAddress): string {
  const parsed = typeof address === 'string' ? parseMetricsAddress(address) : address;
  if (!parsed) throw new Error(`not a metrics address: ${String(address)}`);
  return `http://${loopbackIfWildcard(parsed.host)}:${parsed.port}/metrics`;
}

/** The host part of a URL that reaches `host` from this machine: a wildcard becomes loopback, IPv6 gets brackets. */
export function loopbackIfWildcard(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

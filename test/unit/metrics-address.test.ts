/**
 * The metrics addresses of the API and the worker: one syntax (config/metrics-address.ts),
 * loopback defaults apart from the public API port, empty turns each off, and the URL a
 * scraper on this host uses (the health check's, the start-up lines').
 */
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/index.ts';
import { metricsUrlOf, parseMetricsAddress } from '../../config/metrics-address.ts';
import { healthUrl } from '../../scripts/healthcheck.ts';

describe('metrics addresses', () => {
  it('default to loopback, on ports apart from each other and from the API', () => {
    const config = loadConfig({});
    expect(config.api.metricsAddress).toBe('127.0.0.1:9465');
    expect(config.worker.metricsAddress).toBe('127.0.0.1:9464');
    expect(parseMetricsAddress(config.api.metricsAddress!)?.port).not.toBe(config.api.port);
  });

  it('are turned off by an empty value', () => {
    const config = loadConfig({ API_METRICS_ADDRESS: '', WORKER_METRICS_ADDRESS: '' });
    expect(config.api.metricsAddress).toBeUndefined();
    expect(config.worker.metricsAddress).toBeUndefined();
    expect(healthUrl('worker', config)).toBeUndefined();
  });

  it.each(['localhost:9465', '9465', '127.0.0.1', '127.0.0.1:65536', '::1:9465', '[127.0.0.1]:9465', '300.0.0.1:1', 'http://127.0.0.1:9465'])(
    'refuses %j as either address, naming the variable',
    (value) => {
      expect(parseMetricsAddress(value)).toBeUndefined();
      expect(() => loadConfig({ API_METRICS_ADDRESS: value })).toThrow(/API_METRICS_ADDRESS/);
      expect(() => loadConfig({ WORKER_METRICS_ADDRESS: value })).toThrow(/WORKER_METRICS_ADDRESS/);
    },
  );

  it('parses IPv4 and bracketed IPv6 addresses, port 0 included', () => {
    expect(parseMetricsAddress('0.0.0.0:9465')).toEqual({ host: '0.0.0.0', port: 9465 });
    expect(parseMetricsAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });

  it('is scraped from this host at /metrics, a wildcard address on loopback', () => {
    expect(metricsUrlOf('127.0.0.1:9465')).toBe('http://127.0.0.1:9465/metrics');
    expect(metricsUrlOf('0.0.0.0:9464')).toBe('http://127.0.0.1:9464/metrics');
    expect(metricsUrlOf('[::]:9464')).toBe('http://[::1]:9464/metrics');
    expect(metricsUrlOf('[fd00::5]:9464')).toBe('http://[fd00::5]:9464/metrics');
    expect(healthUrl('worker', loadConfig({ WORKER_METRICS_ADDRESS: '0.0.0.0:9464' }))).toBe('http://127.0.0.1:9464/metrics');
    expect(() => metricsUrlOf('localhost:1')).toThrow(/not a metrics address/);
  });
});

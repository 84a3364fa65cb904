/**
 * Readable logs: `LOG_FORMAT` (config/index.ts), the pretty and JSON loggers
 * (config/logger.ts), the per-process line prefixes of `npm start`
 * (scripts/line-prefixer.ts) and the forwarding of the Temporal dev server's JSON log
 * lines (scripts/temporal-dev-server-log.ts).
 */
import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../config/logger.ts';
import { createLinePrefixer, partPrefix } from '../../scripts/line-prefixer.ts';
import { parseServerLogLine } from '../../scripts/temporal-dev-server-log.ts';

/** A destination that keeps what is written to it. */
function sink() {
  const chunks: string[] = [];
  return { chunks, write: (s: string) => void chunks.push(s), text: () => chunks.join('') };
}

describe('LOG_FORMAT', () => {
  test('defaults to pretty on a terminal and to JSON elsewhere and in tests', () => {
    expect(loadConfig({}, true).logFormat).toBe('pretty');
    expect(loadConfig({}, false).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: '' }, true).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'test' }, true).logFormat).toBe('json');
  });

  test('is taken as set, whatever stdout is', () => {
    expect(loadConfig({ LOG_FORMAT: 'json' }, true).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }, false).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});

describe('createLogger', () => {
  test('json writes one JSON object per line with the service, level, message and fields', () => {
    const out = sink();
    const log = createLogger({ logLevel: 'info', logFormat: 'json' }, 'api', { destination: out });
    log.info({ orderId: 'o-1' }, 'order started');
    log.debug('below the level');
    expect(out.chunks).toHaveLength(1);
    expect(out.text().endsWith('\n')).toBe(true);
    expect(JSON.parse(out.text())).toMatchObject({ level: 30, service: 'api', orderId: 'o-1', msg: 'order started' });
  });

  test('pretty writes one human-readable line: time, level, message, fields', () => {
    const out = sink();
    const log = createLogger({ logLevel: 'info', logFormat: 'pretty' }, 'api', { destination: out, colorize: false });
    log.warn({ orderId: 'o-1', step: 'reserveStock' }, 'step retried');
    expect(out.text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: step retried \{"orderId":"o-1","step":"reserveStock"\}\n$/);
    expect(() => JSON.parse(out.text())).toThrow();
  });

  test('pretty colours the level when asked to', () => {
    const out = sink();
    createLogger({ logLevel: 'info', logFormat: 'pretty' }, 'api', { destination: out, colorize: true }).error('failed');
    expect(out.text()).toContain('\x1b[31mERROR\x1b[39m');
  });
});

describe('line prefixer', () => {
  test('prefixes every line, across chunk boundaries, including an unfinished last line', () => {
    const out = sink();
    const p = createLinePrefixer('api | ', out);
    p.write('one\ntw');
    p.write(Buffer.from('o\r\nthree\n\nfour'));
    expect(out.text()).toBe('api | one\napi | two\napi | three\napi | \n');
    p.end();
    expect(out.text()).toBe('api | one\napi | two\napi | three\napi | \napi | four\n');
    p.end();
    expect(out.text().endsWith('api | four\n')).toBe(true);
  });

  test('keeps a UTF-8 character split between chunks whole', () => {
    const out = sink();
    const p = createLinePrefixer('> ', out);
    const bytes = Buffer.from('₩89,000\n');
    p.write(bytes.subarray(0, 2));
    p.write(bytes.subarray(2));
    expect(out.text()).toBe('> ₩89,000\n');
  });

  test('names are padded to the longest and coloured by position', () => {
    const names = ['start-all', 'temporal', 'data-platform', 'worker', 'api'];
    expect(partPrefix('api', names, false)).toBe('api           | ');
    expect(partPrefix('data-platform', names, false)).toBe('data-platform | ');
    expect(partPrefix('api', names, true)).toBe('\x1b[33mapi           | \x1b[39m');
    expect(new Set(names.map((n) => partPrefix(n, names, true).slice(0, 5))).size).toBe(names.length);
  });
});

describe('Temporal dev server output', () => {
  test('a JSON log line keeps its level, message and fields', () => {
    const line = '{"time":"2026-12-04T18:20:36Z","level":"WARN","msg":"Failed to poll for task.","service":"worker","Namespace":"temporal-system"}';
    expect(parseServerLogLine(line)).toEqual({
      level: 'warn',
      msg: 'Failed to poll for task.',
      fields: { serverService: 'worker', Namespace: 'temporal-system' },
    });
    expect(parseServerLogLine('{"level":"DPANIC","msg":"x"}')?.level).toBe('error');
  });

  test('other lines are not log entries', () => {
    expect(parseServerLogLine('Server:  localhost:7233')).toBeUndefined();
    expect(parseServerLogLine('{not json')).toBeUndefined();
    expect(parseServerLogLine('{"no":"msg"}')).toBeUndefined();
  });
});

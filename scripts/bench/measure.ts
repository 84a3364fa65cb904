/**
 * Drives a started system (the saga stack or the baseline server): warm-up orders until
 * it works end to end, then each closed-loop level and open-loop rate, with the CPU and
 * memory of its processes measured over each level's window.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { closedLoop, openLoop, type LevelResult, type LoadOptions } from './load.ts';
import { orderHeaders, orderMix, type OrderMixFixture } from './order-mix.ts';
import { ProcessMeter, type Mark, type ProcessGroup } from './proc.ts';
import type { MeasuredLevel } from './report.ts';

/** A started system to drive. */
export interface SystemUnderTest {
  system: 'saga' | 'baseline';
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Path (and query) of its order route. */
  orderPath: string;
  /** Its processes, measured over each level's window. */
  groups: ProcessGroup[];
  fixture: OrderMixFixture;
}

/** What every level of a run shares. Times in ms. */
export interface LevelSettings {
  /** Share of orders that fail on purpose (0..1). */
  failShare: number;
  /** Share of orders that use a coupon (0..1). */
  couponShare: number;
  warmupMs: number;
  durationMs: number;
  /** Pause after each level, so the next one starts on a quiet machine. */
  pauseMs: number;
  /** Resolves with the outcome of an order answered 202 (see OrderWatcher). */
  watch: NonNullable<LoadOptions['watch']>;
  /** Writes one progress line. */
  log: (line: string) => void;
}

/** Runs one level and measures the processes of the target's groups over its window. */
async function measure(target: SystemUnderTest, load: (o: LoadOptions) => Promise<LevelResult>, base: Omit<LoadOptions, 'onWindow'>, settings: LevelSettings): Promise<MeasuredLevel> {
  const meter = new ProcessMeter(target.groups);
  await meter.start();
  let from: Mark | undefined;
  let to: Mark | undefined;
  const result = await load({
    ...base,
    onWindow: async (edge) => {
      if (edge === 'start') from = await meter.mark();
      else to = await meter.mark();
    },
  });
  meter.stop();
  const usage = meter.usage(from!, to!);
  const completed = result.throughput * result.durationS;
  const cpuMsPerOrder = Object.fromEntries(
    Object.entries(usage).map(([g, u]) => [g, u.cpuMs === null || completed === 0 ? null : Math.round((u.cpuMs / completed) * 100) / 100]),
  );
  const level: MeasuredLevel = { system: target.system, ...result, loadAvg1: Math.round(os.loadavg()[0]! * 100) / 100, usage, cpuMsPerOrder };
  const cpu = Object.entries(cpuMsPerOrder).map(([g, v]) => `${g} ${v ?? 'n/a'}`).join(', ');
  settings.log(
    `  => ${result.throughput} orders/s; HTTP p50 ${result.http.p50} p99 ${result.http.p99} ms; saga p50 ${result.saga.p50} p99 ${result.saga.p99} max ${result.saga.max} ms; ` +
      `compensated ${(result.compensatedShare * 100).toFixed(1)}%; errors ${result.errors}${result.errors ? ` ${JSON.stringify(result.errorKinds)}` : ''}; CPU ms/order: ${cpu}; load avg ${level.loadAvg1}`,
  );
  await sleep(settings.pauseMs);
  return level;
}

/**
 * Drives every closed-loop level (`clientLevels`, clients), then every open-loop rate
 * (`rates`, orders/s), against the system's order route; one measured level each, in
 * that order. The order mix restarts from the same seed on every call.
 */
export async function runLevels(target: SystemUnderTest, clientLevels: number[], rates: number[], settings: LevelSettings): Promise<MeasuredLevel[]> {
  const { system } = target;
  const { warmupMs, durationMs, log } = settings;
  const out: MeasuredLevel[] = [];
  const base = { url: target.url, path: target.orderPath, next: orderMix(target.fixture, settings.failShare, system === 'saga' ? 1 : 2, settings.couponShare), warmupMs, durationMs, drainMs: 30_000, progress: log, watch: settings.watch };
  for (const clients of clientLevels) {
    log(`${system}: closed loop, ${clients} clients, ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s`);
    out.push(await measure(target, (o) => closedLoop(o, clients), base, settings));
  }
  for (const rate of rates) {
    log(`${system}: open loop, ${rate} orders/s, ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s`);
    out.push(await measure(target, (o) => openLoop(o, rate), base, settings));
  }
  return out;
}

/**
 * Sends orders one by one (none failing on purpose) to `url` + `orderPath` until
 * `wanted` were CONFIRMED (201): the stack works end to end. Throws if that takes longer
 * than `timeoutMs`, with the last answer in the message.
 */
export async function warmUp(url: string, orderPath: string, fixture: OrderMixFixture, wanted: number, timeoutMs: number): Promise<void> {
  const pool = new Pool(url, { connections: 1 });
  const next = orderMix(fixture, 0, 99);
  const deadline = Date.now() + timeoutMs;
  let confirmed = 0;
  let last = '';
  try {
    while (confirmed < wanted) {
      if (Date.now() > deadline) throw new Error(`the stack confirmed ${confirmed} of ${wanted} warm-up orders in ${timeoutMs} ms (last answer: ${last})`);
      try {
        const planned = next();
        const res = await pool.request({ path: orderPath, method: 'POST', headers: orderHeaders(planned), body: planned.body });
        last = `${res.statusCode} ${(await res.body.text()).slice(0, 200)}`;
        if (res.statusCode === 201) confirmed += 1;
        else await sleep(200);
      } catch (err) {
        last = (err as Error).message;
        await sleep(200);
      }
    }
  } finally {
    await pool.close();
  }
}

/**
 * The load generator: POST /orders over keep-alive HTTP/1.1 (undici), in a closed loop
 * (a fixed number of clients, each sending its next order when the last one finished)
 * or an open loop (orders sent at a fixed arrival rate whatever the answers, latency
 * counted from the moment each order was due, so a slow server cannot hide its queue:
 * no coordinated omission). Both stop by themselves after warm-up + duration and wait
 * at most `drainMs` for the orders still in flight.
 *
 * Saga completion: a 201, 409 or 422 answer is the business outcome (CONFIRMED, or
 * CANCELLED after the compensations ran). A 202 means the saga runs on; its outcome is
 * then watched in the order's row (one query every 100 ms for all such orders, so that
 * watching adds no load to the API or Temporal; order-watcher.ts) until it is no longer
 * PENDING.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { orderHeaders, type PlannedOrder } from './order-mix.ts';
import { summarize, type LatencySummary } from './stats.ts';

/** What one order gave. Times in ms from the load's time origin. */
interface Sample {
  /** When it was due (open loop) or sent (closed loop). */
  start: number;
  /** When the HTTP answer arrived. */
  answered: number;
  /** When the business outcome was known (the answer, or the end of polling a 202). */
  done: number;
  status: number;
  outcome: 'CONFIRMED' | 'CANCELLED' | 'ERROR';
  errorCode?: string;
  /** The answer was 202 (outcome known only by polling). */
  pending: boolean;
  /** The order the answer named, if any. */
  orderId?: string;
}

/** Results of one level. Rates per second, latencies in ms. */
export interface LevelResult {
  mode: 'closed' | 'open';
  /** Clients (closed loop) or the maximum number of connections (open loop). */
  concurrency: number;
  /** Target arrival rate, orders/s (open loop). */
  targetRate: number | null;
  durationS: number;
  /** Orders sent within the measured window. */
  sent: number;
  /** Orders with a business outcome (CONFIRMED or CANCELLED) within the window, per second. */
  throughput: number;
  confirmedPerS: number;
  /** HTTP answer latency of the orders sent in the window. */
  http: LatencySummary;
  /** Request to business outcome (CONFIRMED/CANCELLED), the same orders. */
  saga: LatencySummary;
  /** Saga latency of the CONFIRMED orders only. */
  sagaConfirmed: LatencySummary;
  compensatedShare: number;
  /** Answers that were 202 (outcome polled). */
  pendingAnswers: number;
  errors: number;
  /** Error codes (HTTP status or transport error) and how many. */
  errorKinds: Record<string, number>;
  /** Orders whose outcome differed from what the mix planned (e.g. an unexpected cancel). */
  unexpectedOutcomes: number;
  /** Up to 40 orders of the window, evenly spread, with their saga latency (for history breakdowns). */
  sampleOrders: { orderId: string; sagaMs: number }[];
}

/** Options of a load level. */
export interface LoadOptions {
  url: string;
  /** Path of the order route, e.g. `/orders` or `/baseline/orders`. */
  path: string;
  next: () => PlannedOrder;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  /** Called about once a second with a progress line. */
  progress?: (line: string) => void;
  /** Called when the measured window starts and ends (CPU marks). */
  onWindow?: (edge: 'start' | 'end') => Promise<void> | void;
  /** Resolves with the business outcome of an order answered 202 (see OrderWatcher in order-watcher.ts). */
  watch?: (orderId: string) => Promise<'CONFIRMED' | 'CANCELLED' | 'ERROR'>;
}

async function sendOrder(pool: Pool, options: LoadOptions, planned: PlannedOrder, start: number, origin: number): Promise<Sample> {
  const path = options.path;
  const now = () => performance.now() - origin;
  try {
    const res = await pool.request({ path, method: 'POST', headers: orderHeaders(planned), body: planned.body, headersTimeout: 60_000, bodyTimeout: 60_000 });
    const text = await res.body.text();
    const answered = now();
    const status = res.statusCode;
    if (status === 201) return { start, answered, done: answered, status, outcome: 'CONFIRMED', pending: false, orderId: orderIdOf(text) };
    if (status === 409 || status === 422) {
      const code = codeOf(text);
      if (code === 'OutOfStock' || code === 'InsufficientPoints') {
        return { start, answered, done: answered, status, outcome: 'CANCELLED', errorCode: code, pending: false, orderId: orderIdOf(text) };
      }
      return { start, answered, done: answered, status, outcome: 'ERROR', errorCode: `${status} ${code}`, pending: false };
    }
    if (status === 202) {
      const orderId = (JSON.parse(text) as { orderId: string }).orderId;
      const final = options.watch ? await options.watch(orderId) : await pollOrder(pool, orderId, 60_000);
      return { start, answered, done: now(), status, outcome: final, pending: true, orderId, ...(final === 'ERROR' ? { errorCode: '202 never finished' } : {}) };
    }
    return { start, answered, done: answered, status, outcome: 'ERROR', errorCode: `${status} ${codeOf(text)}`, pending: false };
  } catch (err) {
    const t = now();
    return { start, answered: t, done: t, status: 0, outcome: 'ERROR', errorCode: (err as { code?: string }).code ?? (err as Error).message, pending: false };
  }
}

/** The order id of a 201 (`orderId`) or of a business refusal (problem details with the order view in `order`). */
function orderIdOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { orderId?: string; order?: { orderId?: string } };
    return body.orderId ?? body.order?.orderId;
  } catch {
    return undefined;
  }
}

function codeOf(text: string): string {
  try {
    return (JSON.parse(text) as { code?: string }).code ?? '?';
  } catch {
    return '?';
  }
}

/** Without a watcher: GET /orders/:id with backoff (100 ms doubling to 2 s). */
async function pollOrder(pool: Pool, orderId: string, timeoutMs: number): Promise<Sample['outcome']> {
  const deadline = performance.now() + timeoutMs;
  for (let wait = 100; performance.now() < deadline; wait = Math.min(wait * 2, 2000)) {
    await sleep(wait);
    try {
      const res = await pool.request({ path: `/orders/${orderId}`, method: 'GET' });
      const body = (await res.body.json()) as { status?: string };
      if (body.status === 'CONFIRMED') return 'CONFIRMED';
      if (body.status === 'CANCELLED') return 'CANCELLED';
      if (body.status === 'COMPENSATION_FAILED') return 'ERROR';
    } catch {
      // keep polling until the deadline
    }
  }
  return 'ERROR';
}

/** Closed loop: `clients` clients, each with one order in flight. */
export async function closedLoop(options: LoadOptions, clients: number): Promise<LevelResult> {
  const pool = new Pool(options.url, { connections: clients, pipelining: 1, keepAliveTimeout: 30_000 });
  const origin = performance.now();
  const windowStart = options.warmupMs;
  const windowEnd = options.warmupMs + options.durationMs;
  const samples: Sample[] = [];
  const planned: PlannedOrder[] = [];
  let inFlight = 0;
  const monitor = startMonitor(options, origin, samples, () => inFlight, `closed c=${clients}`);
  const windowMarks = markWindow(options, origin, windowStart, windowEnd);
  const client = async () => {
    while (performance.now() - origin < windowEnd) {
      const order = options.next();
      inFlight += 1;
      const sample = await sendOrder(pool, options, order, performance.now() - origin, origin);
      inFlight -= 1;
      samples.push(sample);
      planned.push(order);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  await windowMarks;
  monitor.stop();
  await pool.close();
  return resultOf('closed', clients, null, options, samples, planned);
}

/**
 * Open loop: orders due at `rate` per second from the start (warm-up included), each sent
 * when due on up to `connections` connections (undici queues beyond them; the wait counts).
 */
export async function openLoop(options: LoadOptions, rate: number, connections = 256): Promise<LevelResult> {
  const pool = new Pool(options.url, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const origin = performance.now();
  const windowStart = options.warmupMs;
  const windowEnd = options.warmupMs + options.durationMs;
  const samples: Sample[] = [];
  const planned: PlannedOrder[] = [];
  const running = new Set<Promise<void>>();
  let inFlight = 0;
  const monitor = startMonitor(options, origin, samples, () => inFlight, `open ${rate}/s`);
  const windowMarks = markWindow(options, origin, windowStart, windowEnd);
  const total = Math.floor((windowEnd / 1000) * rate);
  for (let i = 0; i < total; i++) {
    const due = (i * 1000) / rate;
    const wait = due - (performance.now() - origin);
    if (wait > 1) await sleep(wait);
    const order = options.next();
    inFlight += 1;
    const p = sendOrder(pool, options, order, due, origin).then((sample) => {
      inFlight -= 1;
      samples.push(sample);
      planned.push(order);
      running.delete(p);
    });
    running.add(p);
  }
  await Promise.race([Promise.all(running), sleep(options.drainMs)]);
  await windowMarks;
  monitor.stop();
  // Orders still unanswered after the drain count as errors; their requests are abandoned.
  const unfinished = inFlight;
  await pool.destroy();
  return resultOf('open', connections, rate, options, samples, planned, unfinished);
}

/** Calls `onWindow('start')` and `onWindow('end')` at the window's edges. */
async function markWindow(options: LoadOptions, origin: number, start: number, end: number): Promise<void> {
  if (!options.onWindow) return;
  await sleep(Math.max(0, start - (performance.now() - origin)));
  await options.onWindow('start');
  await sleep(Math.max(0, end - (performance.now() - origin)));
  await options.onWindow('end');
}

function startMonitor(options: LoadOptions, origin: number, samples: Sample[], inFlight: () => number, label: string) {
  let last = 0;
  const timer = setInterval(() => {
    const t = performance.now() - origin;
    const done = samples.length;
    const errors = samples.reduce((n, s) => n + (s.outcome === 'ERROR' ? 1 : 0), 0);
    const phase = t < options.warmupMs ? 'warm-up' : t < options.warmupMs + options.durationMs ? 'measuring' : 'draining';
    options.progress?.(
      `  ${label.padEnd(14)} ${phase.padEnd(9)} ${(t / 1000).toFixed(0).padStart(3)} s  ${String(done - last).padStart(5)} orders/s  in flight ${String(inFlight()).padStart(4)}  errors ${errors}`,
    );
    last = done;
  }, 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function resultOf(
  mode: 'closed' | 'open',
  concurrency: number,
  rate: number | null,
  options: LoadOptions,
  samples: Sample[],
  planned: PlannedOrder[],
  unfinished = 0,
): LevelResult {
  const start = options.warmupMs;
  const end = options.warmupMs + options.durationMs;
  const seconds = options.durationMs / 1000;
  const inWindow = samples.map((s, i) => ({ s, p: planned[i]! })).filter(({ s }) => s.start >= start && s.start < end);
  const finishedInWindow = samples.filter((s) => s.outcome !== 'ERROR' && s.done >= start && s.done < end);
  const ok = inWindow.filter(({ s }) => s.outcome !== 'ERROR');
  const errors = inWindow.filter(({ s }) => s.outcome === 'ERROR');
  const errorKinds: Record<string, number> = {};
  for (const { s } of errors) errorKinds[s.errorCode ?? String(s.status)] = (errorKinds[s.errorCode ?? String(s.status)] ?? 0) + 1;
  if (unfinished > 0) errorKinds[`unanswered ${options.drainMs / 1000} s after the end`] = unfinished;
  const unexpected = ok.filter(({ s, p }) => (p.expect === 'CONFIRMED') !== (s.outcome === 'CONFIRMED') || (s.errorCode !== undefined && s.errorCode !== p.expect)).length;
  return {
    mode,
    concurrency,
    targetRate: rate,
    durationS: seconds,
    sent: inWindow.length + unfinished,
    throughput: round1(finishedInWindow.length / seconds),
    confirmedPerS: round1(finishedInWindow.filter((s) => s.outcome === 'CONFIRMED').length / seconds),
    http: summarize(inWindow.map(({ s }) => s.answered - s.start)),
    saga: summarize(ok.map(({ s }) => s.done - s.start)),
    sagaConfirmed: summarize(ok.filter(({ s }) => s.outcome === 'CONFIRMED').map(({ s }) => s.done - s.start)),
    compensatedShare: ok.length ? Math.round((ok.filter(({ s }) => s.outcome === 'CANCELLED').length / ok.length) * 1000) / 1000 : 0,
    pendingAnswers: inWindow.filter(({ s }) => s.pending).length,
    errors: errors.length + unfinished,
    errorKinds,
    unexpectedOutcomes: unexpected,
    sampleOrders: spread(ok.filter(({ s }) => s.orderId), 40).map(({ s }) => ({ orderId: s.orderId!, sagaMs: Math.round((s.done - s.start) * 10) / 10 })),
  };
}

/** At most `n` elements of `xs`, evenly spread. */
function spread<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!);
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

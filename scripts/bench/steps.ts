/**
 * `node scripts/bench/steps.ts`: the database work of one order saga without Temporal,
 * to measure changes to the steps' SQL apart from the noise of the whole stack.
 *
 * Runs, for `--orders` confirmed two-line orders one after another (after 100 for
 * warm-up), the saga's activities in order (createOrder, reserveStock, payWithPoints,
 * confirmOrder, which writes the data-platform event into the outbox in its transaction:
 * sagas started now end there) in Temporal's mock activity environment, then the API's
 * own reads of a POST /orders (the
 * reference check and the order read back). Prints wall time and CPU time per order of
 * this process and of the PostgreSQL backends serving the database, in ms.
 *
 * Options: --orders 1000, --database <url> (default: `sagas_bench_steps` next to
 * DATABASE_URL; it is created, migrated and reseeded like the benchmark's).
 * Compare two commits by running it on each (a git worktree per commit), alternately.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../../activities/index.ts';
import type { CreatedOrder } from '../../activities/orders.ts';
import { checkOrderReferences, loadOrderRecord } from '../../api/orders/views.ts';
import { loadConfig } from '../../config/index.ts';
import { openOrm } from '../../db/orm.ts';
import { withDatabase } from './bench-db.ts';
import { orderMix } from './order-mix.ts';
import { cpuMsOf } from './proc.ts';
import { prepareBenchDatabase } from './stack.ts';

const { values: args } = parseArgs({
  options: { orders: { type: 'string', default: '1000' }, database: { type: 'string' } },
});
const orders = Number(args.orders);
const url = args.database ?? withDatabase(loadConfig().database.url, 'sagas_bench_steps');

/** Wall and CPU time per order of `work`, in ms: this process and the PostgreSQL backends. */
interface StepCost {
  wallMs: number;
  nodeCpuMs: number;
  postgresCpuMs: number;
}

async function measure(admin: pg.Client, n: number, work: (i: number) => Promise<void>): Promise<StepCost> {
  const { rows } = await admin.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  const postgresCpu = () => rows.reduce((sum, r) => sum + (cpuMsOf(r.pid) ?? 0), 0);
  const pg0 = postgresCpu();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await work(i);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: wallMs / n, nodeCpuMs: (cpu.user + cpu.system) / 1000 / n, postgresCpuMs: (postgresCpu() - pg0) / n };
}

/** The saga's steps for one confirmed order; returns its order id. */
async function sagaSteps(acts: Activities, env: MockActivityEnvironment, userId: number, productIds: number[]): Promise<string> {
  const orderId = randomUUID();
  const workflowId = `order-${orderId}`;
  const items = productIds.map((productId) => ({ productId, quantity: 1 }));
  const order: CreatedOrder = await env.run(acts.createOrder, { orderId, userId, items, workflowId, requestHash: '0'.repeat(64) });
  const lines = order.lines.map(({ productId, quantity }) => ({ productId, quantity }));
  await env.run(acts.reserveStock, { orderId, lines });
  await env.run(acts.payWithPoints, { userId, amountPoints: order.totalWon, sagaId: workflowId, idempotencyKey: `${workflowId}:pay` });
  await env.run(acts.confirmOrder, { orderId });
  return orderId;
}

const fixture = await prepareBenchDatabase(url);
const orm = await openOrm({ url, poolMax: 2 });
const admin = new pg.Client({ connectionString: url });
await admin.connect();
try {
  const env = new MockActivityEnvironment();
  const acts = createActivities({ orm, dataPlatform: { send: async () => ({ status: 202, duplicate: false }) } });
  const next = orderMix(fixture, 0);
  const placed: { orderId: string; userId: number; productIds: number[] }[] = [];
  const placeOne = async () => {
    const { userId, items } = JSON.parse(next().body) as { userId: number; items: { productId: number }[] };
    const productIds = items.map((i) => i.productId);
    placed.push({ orderId: await sagaSteps(acts, env, userId, productIds), userId, productIds });
  };
  for (let i = 0; i < 100; i++) await placeOne();
  const steps = await measure(admin, orders, placeOne);
  const reads = await measure(admin, orders, async (i) => {
    const order = placed[i % placed.length]!;
    await checkOrderReferences(orm, order.userId, order.productIds);
    await loadOrderRecord(orm, order.orderId);
  });
  const row = (name: string, c: StepCost) => `| ${name} | ${c.wallMs.toFixed(2)} | ${c.nodeCpuMs.toFixed(2)} | ${c.postgresCpuMs.toFixed(2)} |`;
  console.log(`${orders} orders in sequence against ${new URL(url).pathname.slice(1)}; ms per order\n`);
  console.log('| work | wall | CPU this process | CPU PostgreSQL |\n| --- | --- | --- | --- |');
  console.log(row('saga steps (4 activities)', steps));
  console.log(row('API reads (references + read-back)', reads));
} finally {
  await admin.end();
  await orm.close();
}

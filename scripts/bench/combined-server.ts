/**
 * Bench-only: the API and the worker in ONE process on ONE NativeConnection, the set-up
 * that eager workflow start needs (the server hands the new workflow's first task back in
 * the start response, to a worker polling through the same connection). It serves the
 * API's app plus `POST /bench/orders?start=eager|update`, a copy of the checkout route
 * reduced to what both start modes share (validate, check references, start, wait for the
 * outcome, read the order back):
 * - `update`: update-with-start, one round trip that starts the saga and waits for its
 *   outcome (what POST /orders does);
 * - `eager`: `workflow.start` with `requestEagerStart` (eager start cannot be combined
 *   with update-with-start), then the saga's result: a saga started now runs to its end in
 *   the one workflow task the start hands to this process's worker, so the `orderOutcome`
 *   Update, which this mode sent before, always arrived after the saga had completed (764
 *   of 764 in a run) and only added a failed round trip.
 * The comparison of the two is the eager-start lever of docs/benchmark.md. Not part of
 * the product; logs `combined listening` with its URL.
 */
import { Router } from '@koa/router';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../config/logger.ts';
import { temporalConnectionOptions } from '../../config/temporal.ts';
import { openOrm } from '../../db/orm.ts';
import type { AppState } from '../../api/app.ts';
import { startApiServer } from '../../api/server.ts';
import { ApiError, ErrorCode } from '../../api/errors.ts';
import { jsonBody } from '../../api/middleware/json-body.ts';
import { orderInput, startCheckout } from '../../api/orders/commands.ts';
import { CreateOrderBody } from '../../api/orders/schemas.ts';
import { loadOrderRecord, toOrderView } from '../../api/orders/views.ts';
import { withDeadline } from '../../api/temporal.ts';
import {
  ORDER_CHECKOUT_WORKFLOW,
  orderWorkflowId,
  sagaStartSearchAttributes,
  type OrderCheckoutInput,
  type OrderOutcome,
} from '../../common/index.ts';
import { installWorkerRuntime } from '../../worker/metrics.ts';
import { createConfiguredSagaWorker } from '../../worker/worker.ts';
import { COMBINED_ORDERS_PATH } from './paths.ts';


const config = loadConfig();
const logger = createLogger(config, 'combined');
installWorkerRuntime(logger, undefined);
const orm = await openOrm({ url: config.database.url, poolMax: config.database.poolMax });
const connection = await NativeConnection.connect(await temporalConnectionOptions(config.temporal));
const worker = await createConfiguredSagaWorker(config, connection, orm);
const running = worker.run();
const client = new Client({ connection, namespace: config.temporal.namespace });

/** Starts the saga eagerly, then waits for its result (the outcome; the saga ends in its first workflow task). */
async function eagerCheckout(input: OrderCheckoutInput): Promise<OrderOutcome> {
  return withDeadline(client, config.api.orderOutcomeWaitMs, async () => {
    const handle = await client.workflow.start(ORDER_CHECKOUT_WORKFLOW, {
      workflowId: orderWorkflowId(input.orderId),
      taskQueue: config.temporal.taskQueue,
      args: [input],
      requestEagerStart: true,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: sagaStartSearchAttributes({ orderId: input.orderId, userId: input.userId }),
    });
    if (!handle.eagerlyStarted) eagerMisses += 1;
    return (await handle.result()) as OrderOutcome;
  });
}
let eagerMisses = 0;
/** Always 0 now: kept for the results' `eagerUpdatesAfterCompletion` (the Update this mode no longer sends). */
const updatesTooLate = 0;

const router = new Router<AppState>();
router.post(COMBINED_ORDERS_PATH, jsonBody(config.api.bodyLimitBytes), async (ctx) => {
  // The benchmark's own route (no token): the body names the user.
  const body = CreateOrderBody.required({ userId: true }).parse(ctx.request.body);
  const input = await orderInput(orm, body, { stepActivities: config.api.orderStepActivities });
  let outcome: OrderOutcome;
  if (ctx.query.start === 'eager') {
    outcome = await eagerCheckout(input);
  } else {
    const answer = await startCheckout(client, config.temporal.taskQueue, config.api.orderOutcomeWaitMs, input);
    if (answer.kind !== 'outcome') throw new ApiError(503, ErrorCode.TemporalUnavailable, `no outcome (${answer.kind})`);
    outcome = answer.outcome;
  }
  if (outcome.status !== 'CONFIRMED') {
    throw new ApiError(outcome.reason === 'InsufficientPoints' ? 422 : 409, outcome.reason ?? 'OrderCancelled', outcome.message ?? 'cancelled');
  }
  const record = await loadOrderRecord(orm, input.orderId);
  ctx.status = 201;
  ctx.body = toOrderView({ ...record!, status: outcome.status }, null);
});
router.get('/bench/eager-misses', (ctx) => {
  ctx.body = { eagerMisses, updatesTooLate };
});

const { server, url } = await startApiServer({ orm, client, config, logger }, { host: config.api.host, port: config.api.port, extraRouter: router });
logger.warn({ url }, 'combined listening');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    void running.then(async () => {
      await connection.close();
      await orm.close();
      process.exit(0);
    });
  });
}

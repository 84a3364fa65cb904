/**
 * The external data platform: its HTTP client and the `notifyDataPlatform` activity.
 * Delivery is at-least-once from our side (Temporal retries the activity) and exactly
 * once at the receiver, which deduplicates by `eventId`; the `data_platform_deliveries`
 * row records attempts and the outcome for operators, and two metrics (see
 * {@link DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC}) count them for dashboards.
 */
import { request } from 'undici';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, noopMetricMeter, type MetricMeter } from '@temporalio/common';
import type { Orm } from '../db/orm.ts';
import { statement } from './tx.ts';

/** An event sent to the data platform. `occurredAt` is an ISO-8601 instant. */
export interface DataPlatformEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  payload: Record<string, unknown>;
}

/** Answer of the data platform to one POST: the HTTP status and whether it was a repeat. */
export interface DeliveryReceipt {
  status: number;
  duplicate: boolean;
}

/** What the activities need of the data platform. */
export interface DataPlatformClient {
  /**
   * POSTs `event` to `<baseUrl>/events`.
   *
   * @throws Error on a network error, timeout or 5xx/429 (transient: retry);
   *   ApplicationFailure `DataPlatformRejected` (non-retryable) on any other 4xx.
   */
  send(event: DataPlatformEvent): Promise<DeliveryReceipt>;
}

/** Settings of {@link createDataPlatformClient}: base URL and per-request timeout in ms. */
export interface DataPlatformClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

/** Builds the HTTP client of the data platform on undici. */
export function createDataPlatformClient({ baseUrl, timeoutMs }: DataPlatformClientOptions): DataPlatformClient {
  const url = new URL('/events', baseUrl).toString();
  return {
    async send(event) {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': event.eventId },
        body: JSON.stringify(event),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const body = text ? (JSON.parse(text) as { duplicate?: boolean }) : {};
        return { status: res.statusCode, duplicate: body.duplicate === true };
      }
      const message = `Data platform answered ${res.statusCode}: ${text.slice(0, 200)}`;
      if (res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408) throw new Error(message);
      throw ApplicationFailure.nonRetryable(message, 'DataPlatformRejected', { status: res.statusCode });
    },
  };
}

/**
 * Counter: one per POST of an event to the data platform, by `outcome`: `delivered`
 * (accepted), `duplicate` (accepted, the receiver already had it), `failed_transient`
 * (network error, timeout, 5xx, 408 or 429: the activity retries) or `rejected` (any other
 * 4xx: `DataPlatformRejected`, not retried). A retry that finds the event already
 * DELIVERED in our table sends nothing and counts nothing. Exported by the worker's
 * Runtime as `data_platform_delivery_attempts_total`.
 */
export const DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC = 'data_platform_delivery_attempts';

/**
 * Histogram, in ms: from the event's `occurredAt` (the saga's pivot) to the moment its
 * delivery is recorded as DELIVERED, once per event; its buckets are set by the worker.
 */
export const DATA_PLATFORM_DELIVERY_LAG_METRIC = 'data_platform_delivery_lag_ms';

/** Outcome label of {@link DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC}. */
export type DeliveryAttemptOutcome = 'delivered' | 'duplicate' | 'failed_transient' | 'rejected';

/**
 * The current activity's meter (tagged by the SDK with namespace, taskQueue and
 * activityType), or a no-op meter when called outside an activity (tests that call the
 * activity function directly).
 */
function activityMeter(): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return noopMetricMeter;
  }
}

function recordAttempt(meter: MetricMeter, outcome: DeliveryAttemptOutcome): void {
  meter
    .createCounter(DATA_PLATFORM_DELIVERY_ATTEMPTS_METRIC, 'attempts', 'POSTs of events to the data platform, by outcome')
    .add(1, { outcome });
}

function recordLag(meter: MetricMeter, event: DataPlatformEvent): void {
  const occurredAt = Date.parse(event.occurredAt);
  if (Number.isNaN(occurredAt)) return;
  meter
    .createHistogram(DATA_PLATFORM_DELIVERY_LAG_METRIC, 'int', 'ms', 'From an event occurring to its delivery to the data platform, in ms')
    .record(Math.max(0, Date.now() - occurredAt));
}

/** Input of {@link notifyDataPlatform}: the event and the saga (workflow id) it reports. */
export interface NotifyInput {
  sagaId: string;
  event: DataPlatformEvent;
}

/** Dependencies of the data-platform activity. */
export interface DataPlatformDeps {
  orm: Orm;
  dataPlatform: DataPlatformClient;
}

/** Builds the data-platform activity. */
export function createDataPlatformActivities({ orm, dataPlatform }: DataPlatformDeps) {
  return {
    /**
     * Step 5 of both sagas as they ran before the transactional outbox (sagas started
     * without the `outbox-after-pivot` patch; newer ones end at their pivot, which writes
     * the event for the relay): delivers the saga's event to the data platform. Has no compensation; its failure never reverts the business result.
     * Idempotent: once the delivery row is DELIVERED a retry sends nothing; a resend
     * after an ambiguous failure is deduplicated by the receiver through `eventId`.
     *
     * @throws Error on transient failures (retried by the activity retry policy);
     *   `DataPlatformRejected` (non-retryable) when the platform refuses the event.
     */
    async notifyDataPlatform({ sagaId, event }: NotifyInput): Promise<{ eventId: string; attempts: number; duplicate: boolean }> {
      const [row] = await statement<{ status: string; attempts: number }>(
        orm,
        // The row is the outbox's (worker/outbox-relay.ts): the event's own payload and instant,
        // and a lease so the relay leaves this delivery to the activity for a minute (the
        // receiver deduplicates by event id should both send it).
        `insert into data_platform_deliveries (event_id, saga_id, event_type, status, attempts, payload, occurred_at, claimed_until, created_at)
           values (?, ?, ?, 'PENDING', 1, ?::jsonb, ?, now() + interval '60 seconds', now())
           on conflict (event_id) do update set attempts = data_platform_deliveries.attempts
             + (case when data_platform_deliveries.status = 'DELIVERED' then 0 else 1 end)
           returning status, attempts`,
        [event.eventId, sagaId, event.type, JSON.stringify(event.payload), event.occurredAt],
      );
      if (row?.status === 'DELIVERED') return { eventId: event.eventId, attempts: row.attempts, duplicate: true };
      const meter = activityMeter();
      try {
        let receipt: DeliveryReceipt;
        try {
          receipt = await dataPlatform.send(event);
        } catch (err) {
          recordAttempt(meter, err instanceof ApplicationFailure && err.nonRetryable ? 'rejected' : 'failed_transient');
          throw err;
        }
        recordAttempt(meter, receipt.duplicate ? 'duplicate' : 'delivered');
        const marked = await statement(
          orm,
          `update data_platform_deliveries set status = 'DELIVERED', delivered_at = now(), last_error = null
           where event_id = ? and status <> 'DELIVERED' returning event_id`,
          [event.eventId],
        );
        // Once per event, by the attempt that marked it DELIVERED (after the commit, so an
        // update that fails is retried and its retry records the lag).
        if (marked.length > 0) recordLag(meter, event);
        return { eventId: event.eventId, attempts: row?.attempts ?? 1, duplicate: receipt.duplicate };
      } catch (err) {
        const failed = err instanceof ApplicationFailure && err.nonRetryable;
        await statement(orm, `update data_platform_deliveries set last_error = ?, status = ? where event_id = ?`, [
          String((err as Error).message).slice(0, 1000),
          failed ? 'FAILED' : 'PENDING',
          event.eventId,
        ]);
        throw err;
      }
    },
  };
}

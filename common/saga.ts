/**
 * Types of saga progress shared by both sagas: what a Query returns and what the API
 * shows under `saga` in `GET /orders/:id`.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/**
 * Custom Keyword search attribute every saga upserts with its status, so the Temporal
 * Web UI and `temporal workflow list --query 'SagaStatus="COMPENSATION_FAILED"'` find
 * sagas by state. The dev server registers it (`--search-attribute SagaStatus=Keyword`).
 */
export const SagaStatusSearchAttribute = defineSearchAttributeKey('SagaStatus', SearchAttributeType.KEYWORD);

/**
 * The custom search attributes the sagas upsert as they progress, so an operator can list
 * sagas in business terms in the Web UI or with `temporal workflow list --query ...`:
 * `SagaStatus="COMPENSATION_FAILED"`, `FailedStep="payWithPoints"`, `UserId="42"`,
 * `CompensatedSteps="releaseStock"`, `HoldExpiresAt < "2026-11-21T10:00:00Z"`.
 * Every one must be registered on the namespace (dev server script, docker-compose).
 */
export const SagaSearchAttributes = {
  sagaStatus: SagaStatusSearchAttribute,
  orderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  reservationId: defineSearchAttributeKey('ReservationId', SearchAttributeType.KEYWORD),
  userId: defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD),
  failedStep: defineSearchAttributeKey('FailedStep', SearchAttributeType.KEYWORD),
  compensatedSteps: defineSearchAttributeKey('CompensatedSteps', SearchAttributeType.KEYWORD_LIST),
  holdExpiresAt: defineSearchAttributeKey('HoldExpiresAt', SearchAttributeType.DATETIME),
} as const;

/** Every key of {@link SagaSearchAttributes}, for registering them on a namespace. */
export const ALL_SAGA_SEARCH_ATTRIBUTES = Object.values(SagaSearchAttributes);

/**
 * Patch id of the saga shape with the fewest Temporal operations (issue 16): the search
 * attributes come with the start ({@link sagaStartSearchAttributes}) and the saga upserts
 * them once at its end (and when it parks), see workflows/observability.ts; and every
 * patch of the sagas before it is taken as present without its marker (each `patched()`
 * writes a marker and a `TemporalChangeVersion` upsert, one more visibility write). Asked
 * once, at the saga's start (workflows/saga-run.ts); sagas started before it run as they
 * did, asking their own patches.
 */
export const SAGA_ONE_UPSERT_PATCH = 'saga-attributes-at-start-one-upsert';

/** The business ids a saga is tagged with from its start (search attributes). */
export interface SagaIds {
  orderId?: string;
  reservationId?: string;
  userId: number;
  /** When the seats' hold ends (reservations). */
  holdExpiresAt?: Date;
}

/**
 * The search attributes a saga starts with (`typedSearchAttributes` of its start): its
 * business ids and `SagaStatus` PENDING, so the start's own visibility record carries them
 * and the workflow upserts nothing before its end (workflows/observability.ts). The
 * workflow upserts at its start only those a start left out (a client that gave none).
 */
export function sagaStartSearchAttributes(ids: SagaIds): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: SagaSearchAttributes.userId, value: String(ids.userId) },
    { key: SagaSearchAttributes.sagaStatus, value: 'PENDING' },
  ];
  if (ids.orderId) pairs.push({ key: SagaSearchAttributes.orderId, value: ids.orderId });
  if (ids.reservationId) pairs.push({ key: SagaSearchAttributes.reservationId, value: ids.reservationId });
  if (ids.holdExpiresAt) pairs.push({ key: SagaSearchAttributes.holdExpiresAt, value: ids.holdExpiresAt });
  return pairs;
}

/** State of one forward step of a saga. */
export type StepState = 'started' | 'completed' | 'failed';

/** State of one compensation. */
export type CompensationState = 'started' | 'completed' | 'failed';

/** One forward step as recorded by the workflow; `at` is epoch ms of workflow time. */
export interface StepRecord {
  name: string;
  state: StepState;
  at: number;
  failureType?: string;
}

/** One compensation as recorded by the saga helper, in the order it ran (reverse of steps). */
export interface CompensationRecord {
  name: string;
  state: CompensationState;
  at: number;
  failureType?: string;
  message?: string;
}

/**
 * Delivery state of the data-platform event of a saga, as its workflow knows it:
 * NOT_APPLICABLE before the pivot (and for sagas that never confirm); OUTBOX once the
 * pivot wrote the event into the outbox, which the relay delivers (sagas started from the
 * outbox on: the delivery state itself is the outbox row's, shown as `event` in the
 * views); PENDING, DELIVERED or FAILED for sagas started before the outbox, which deliver
 * the event themselves.
 */
export type NotificationState = 'NOT_APPLICABLE' | 'OUTBOX' | 'PENDING' | 'DELIVERED' | 'FAILED';

/**
 * Progress of a saga as its Query returns it.
 * `status` is the saga's business status (for orders: PENDING, CONFIRMED, CANCELLED,
 * COMPENSATION_FAILED).
 */
export interface SagaProgress<Status extends string = string> {
  workflowId: string;
  status: Status;
  steps: StepRecord[];
  compensations: CompensationRecord[];
  notification: NotificationState;
  failure?: { type: string; message: string };
}

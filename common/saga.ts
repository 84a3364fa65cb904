/**
 * Types of saga progress shared by both sagas: what a Query returns and what the API
 * shows under `saga` in `GET /orders/:id`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom Keyword search attribute every saga upserts with its status, so the Temporal
 * Web UI and `temporal workflow list --query 'SagaStatus="COMPENSATION_FAILED"'` find
 * sagas by state. The dev server registers it (`--search-attribute SagaStatus=Keyword`).
 */
export const SagaStatusSearchAttribute = defineSearchAttributeKey('SagaStatus', SearchAttributeType.KEYWORD);

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

/** Delivery state of the data-platform event of a saga. */
export type NotificationState = 'NOT_APPLICABLE' | 'PENDING' | 'DELIVERED' | 'FAILED';

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

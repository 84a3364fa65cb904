/**
 * Starting a saga from a request and waiting, for a bounded time, for its first answer.
 * One Update-with-Start round trip starts the saga (or reaches the running one with the
 * same id) and asks for the answer through an Update the workflow completes as soon as it
 * knows (an order's outcome, a reservation's hold). Shared by the order and reservation
 * commands (api/orders/commands.ts, api/reservations/commands.ts), which differ only
 * in the workflow, its id and its Update.
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  type Client,
} from '@temporalio/client';
import type { SearchAttributePair, UpdateDefinition } from '@temporalio/common';
import { ErrorCode, serviceUnavailable, type ApiError } from './errors.ts';
import { describeWorkflow, withDeadline } from './temporal.ts';

/** Memo key under which each saga carries the hash of the request that started it. */
export const REQUEST_HASH_MEMO = 'requestHash';

/**
 * What starting a saga gave:
 * - `outcome`: the saga answered the Update within the wait;
 * - `pending`: the saga runs (or its start is in flight) but has not answered yet;
 * - `closed`: a saga with this id already finished, so no new one was started
 *   (REJECT_DUPLICATE); its result is in the database.
 */
export type StartAnswer<Outcome> = { kind: 'outcome'; outcome: Outcome } | { kind: 'pending' } | { kind: 'closed' };

/**
 * A saga to start: its workflow type and id, its one input, the Update that answers, and
 * the search attributes it starts with (common/saga.ts `sagaStartSearchAttributes`: its
 * ids and `SagaStatus` PENDING, in the start's own visibility record, so the workflow
 * upserts none of them).
 */
export interface SagaStart<Input extends { requestHash: string }, Outcome> {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  input: Input;
  update: UpdateDefinition<Outcome, []>;
  searchAttributes: SearchAttributePair[];
}

/**
 * Starts (or joins) the saga `start.workflowId` and waits up to `waitMs` for its Update's
 * answer.
 *
 * Idempotent: a running saga with that id is reused (USE_EXISTING) and a finished one is
 * never started again (REJECT_DUPLICATE). The request hash travels in the memo so a
 * pending answer can still detect key reuse ({@link checkPendingStart}).
 *
 * @throws Temporal errors other than "already closed" and "no answer within the wait"
 *   (unreachable service, failed Update).
 */
export async function startSaga<Input extends { requestHash: string }, Outcome>(
  client: Client,
  waitMs: number,
  start: SagaStart<Input, Outcome>,
): Promise<StartAnswer<Outcome>> {
  const startWorkflowOperation = new WithStartWorkflowOperation<(input: Input) => Promise<unknown>>(start.workflowType, {
    workflowId: start.workflowId,
    taskQueue: start.taskQueue,
    args: [start.input],
    memo: { [REQUEST_HASH_MEMO]: start.input.requestHash },
    typedSearchAttributes: start.searchAttributes,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    // One deadline covers both calls: the start waits for a worker to accept the Update.
    const outcome = await withDeadline(client, waitMs, async () => {
      const update = await client.workflow.startUpdateWithStart(start.update, {
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        startWorkflowOperation,
      });
      return update.result();
    });
    return { kind: 'outcome', outcome };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'closed' };
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'pending' };
    throw err;
  }
}

/**
 * The request hash a running saga was started with (from its memo).
 *
 * @returns the hash; undefined when the saga exists without one; null when no saga exists
 *   (its start never reached Temporal).
 * @throws Temporal unavailability.
 */
export async function startedRequestHash(client: Client, workflowId: string): Promise<string | undefined | null> {
  const description = await describeWorkflow(client, workflowId);
  if (!description) return null;
  const hash = description.memo?.[REQUEST_HASH_MEMO];
  return typeof hash === 'string' ? hash : undefined;
}

/**
 * For a `pending` start: makes sure the saga that runs was started by this request.
 *
 * @param what the saga's noun in the 503 message ("order", "reservation").
 * @param keyReused the error for a saga started by another request with the same key.
 * @throws ApiError 503 `TemporalUnavailable` when no saga exists (the start never reached
 *   Temporal in time); `keyReused()` when the saga's request hash differs.
 */
export async function checkPendingStart(
  client: Client,
  workflowId: string,
  requestHash: string,
  what: string,
  keyReused: () => ApiError,
): Promise<void> {
  const startedWith = await startedRequestHash(client, workflowId);
  if (startedWith === null) {
    throw serviceUnavailable(ErrorCode.TemporalUnavailable, `The ${what} could not be started in time; retry with the same Idempotency-Key`);
  }
  if (startedWith !== undefined && startedWith !== requestHash) throw keyReused();
}

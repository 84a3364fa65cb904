/** Who owns a saga that has not written its row yet: the `UserId` search attribute its workflow sets on its first task. */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { SagaSearchAttributes } from '../../common/index.ts';

/** The user id a saga's workflow carries in its `UserId` search attribute, or null (no workflow, or not set yet). */
export function sagaUserId(description: WorkflowExecutionDescription | null): number | null {
  const value = description?.typedSearchAttributes.get(SagaSearchAttributes.userId);
  return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : null;
}

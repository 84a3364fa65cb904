/** Who owns a saga that has not written its row yet: the `UserId` search attribute the API gives at its start (sagas started before that set it on their first task). */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { SagaSearchAttributes } from '../../common/index.ts';

/** The user id a saga's workflow carries in its `UserId` search attribute, or null (no workflow, or not set yet). */
export function sagaUserId(description: WorkflowExecutionDescription | null): number | null {
  const value = description?.typedSearchAttributes.get(SagaSearchAttributes.userId);
  return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : null;
}

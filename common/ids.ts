/**
 * Workflow-id builders and step idempotency keys. Workflow ids come only from here: the id of
 * a saga is the idempotency key of the request that started it (Temporal rejects a second
 * workflow with the same id), so its format is part of the public contract.
 */

/** Workflow id of the order checkout saga of order `orderId` (a UUID): `order-<orderId>`. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/** Workflow id of the seat reservation saga of `reservationId` (a UUID): `reservation-<reservationId>`. */
export function reservationWorkflowId(reservationId: string): string {
  return `reservation-${reservationId}`;
}

/** Workflow id of a point top-up: `points-top-up-<topUpId>`. */
export function topUpWorkflowId(topUpId: string): string {
  return `points-top-up-${topUpId}`;
}

/**
 * Idempotency key of one step of a saga: `<workflowId>:<step>`. Derived in the workflow,
 * passed in the activity input, and stored under a unique constraint by the activity, so
 * a retried step is a lookup instead of a second effect.
 */
export function stepKey(workflowId: string, step: string): string {
  return `${workflowId}:${step}`;
}

/** Event id of the data-platform event of a confirmed saga: `<workflowId>:confirmed`. */
export function confirmedEventId(workflowId: string): string {
  return stepKey(workflowId, 'confirmed');
}

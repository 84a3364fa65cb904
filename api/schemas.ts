/**
 * Zod schemas shared by the response schemas of several resources (api/<resource>/schemas.ts):
 * instants, saga progress and links. Each reusable one carries `.meta({ id })`, so the
 * OpenAPI document (api/openapi/) shows it once as a component and refers to it.
 */
import { z } from 'zod';

/**
 * An instant in ISO 8601, UTC, as `Date#toISOString` writes it:
 * `2026-11-21T08:30:15.123Z`.
 */
export const Instant = z.iso.datetime().meta({
  id: 'Instant',
  description: 'An instant in ISO 8601, UTC (`Z`), with milliseconds: `2026-11-21T08:30:15.123Z`.',
  examples: ['2026-11-21T08:30:15.123Z'],
});

/** A path of this API, relative to its base URL (`/orders/<id>`). */
export const ApiPath = z.string().regex(/^\/[^/]/, 'must be a path of this API').meta({
  id: 'ApiPath',
  description: 'A path of this API (with its query string when it has one), relative to the base URL the request went to.',
  examples: ['/orders/0b6f6d3e-5c1a-4c55-9d0e-2f1c8f7f1a20'],
});

/** `links.self` of a resource created or read through the API. */
export const SelfLinks = z.object({ self: ApiPath.meta({ description: 'Where to read this resource.' }) });

/**
 * Path parameters `{ id }` of a resource a saga runs under (`/orders/:id`, `/reservations/:id`):
 * a UUID, lower-cased (workflow ids are case-sensitive). `noun` names the resource in the
 * description: `sagaIdParams('order')` describes `The order id (a UUID; upper case is accepted).`
 */
export function sagaIdParams(noun: string) {
  return z.object({
    id: z
      .uuid('must be a UUID')
      .transform((id) => id.toLowerCase())
      .meta({ description: `The ${noun} id (a UUID; upper case is accepted).` }),
  });
}

/**
 * The 202 body of a saga whose outcome is not known within the wait:
 * `{ [idKey]: <uuid>, status: 'PENDING', links: { self } }`, e.g. `{ orderId, status, links }`
 * for `pendingSagaSchema('orderId')`. The caller adds `.meta({ id, description })`.
 */
export function pendingSagaSchema<IdKey extends string>(idKey: IdKey) {
  const shape = { [idKey]: z.uuid(), status: z.literal('PENDING'), links: SelfLinks };
  return z.object(shape as Record<IdKey, z.ZodUUID> & { status: z.ZodLiteral<'PENDING'>; links: typeof SelfLinks });
}

/** State of one forward step of a saga. */
const StepState = z.enum(['started', 'completed', 'failed']);

/** One forward step as the saga recorded it. */
export const SagaStepSchema = z
  .object({
    name: z.string().meta({ description: 'The activity of the step, e.g. `reserveStock`.' }),
    state: StepState,
    at: z.number().int().nonnegative().meta({ description: 'When the step reached `state`: epoch milliseconds of workflow time.' }),
    failureType: z.string().optional().meta({ description: 'The failure type of a failed step (`OutOfStock`, ...).' }),
  })
  .meta({ id: 'SagaStep', description: 'One forward step of a saga, as the workflow recorded it.' });

/** One compensation as the saga helper recorded it. */
export const SagaCompensationSchema = z
  .object({
    name: z.string().meta({ description: 'The compensating activity, e.g. `releaseStock`.' }),
    state: StepState,
    at: z.number().int().nonnegative().meta({ description: 'Epoch milliseconds of workflow time.' }),
    failureType: z.string().optional(),
    message: z.string().optional(),
  })
  .meta({ id: 'SagaCompensation', description: 'One compensation, in the order it ran (the reverse of the steps).' });

/** `notification` of a saga's progress: the data-platform event as the workflow knows it (common/saga.ts `NotificationState`). */
export const NotificationStateSchema = z
  .enum(['NOT_APPLICABLE', 'OUTBOX', 'PENDING', 'DELIVERED', 'FAILED'])
  .meta({
    id: 'NotificationState',
    description:
      'The data-platform event as the saga knows it: NOT_APPLICABLE before the pivot; OUTBOX: the pivot wrote it into the outbox and the relay delivers it (its state is the view\'s `event`); PENDING, DELIVERED or FAILED: a saga from before the outbox delivering it itself.',
  });

/**
 * The progress of a saga as its Query answers it, for a business status schema
 * `status` (common/saga.ts `SagaProgress`).
 */
export function sagaProgressSchema<Status extends z.ZodType<string>>(status: Status) {
  return z.object({
    workflowId: z.string().meta({ description: 'The Temporal workflow id of the saga.' }),
    status,
    steps: z.array(SagaStepSchema),
    compensations: z.array(SagaCompensationSchema),
    notification: NotificationStateSchema,
    failure: z
      .object({ type: z.string(), message: z.string() })
      .optional()
      .meta({ description: 'The failure that ended the saga, when one did.' }),
  });
}

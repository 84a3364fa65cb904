/**
 * RFC 9457 problem details: the body of every error answer of the API, sent with
 * `Content-Type: application/problem+json`.
 *
 * ```json
 * {
 *   "type": "/problems/OutOfStock",
 *   "title": "Out of stock",
 *   "status": 409,
 *   "detail": "Product 3 has 0 units left, 2 requested",
 *   "instance": "/orders",
 *   "code": "OutOfStock",
 *   "requestId": "5f0c…",
 *   "order": { … }
 * }
 * ```
 *
 * - `type` is `/problems/<code>`, a relative URI that `GET /problems/:code` documents;
 * - `title` is fixed per code ({@link problemTypes}); `detail` is about this occurrence;
 * - `instance` is the request path without its query (absent when the server could not
 *   read one, e.g. a malformed request line); `requestId` is the answer's `X-Request-Id`;
 * - extension members follow at the top level: `errors: [{ path, message }]` for
 *   `ValidationFailed`, and per code e.g. `productIds`, `seatIds`, `order`, `reservationId`.
 *
 * The standard members can never be overwritten by an extension: {@link ProblemExtensions}
 * forbids them by type, and {@link assertProblemExtensions} refuses them at run time.
 */
import { z } from 'zod';
import { assertProblemExtensions, type ProblemExtensions } from './errors.ts';
import { isProblemCode, problemTypes } from './problem-types.ts';

export { assertProblemExtensions, STANDARD_PROBLEM_MEMBERS, type ProblemExtensions, type StandardProblemMember } from './errors.ts';

/** Media type of every error answer (RFC 9457 section 3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Path prefix of the problem type URIs (`/problems/<code>`), served by problems/routes.ts. */
export const PROBLEM_TYPE_PREFIX = '/problems/';

/** One field-level validation error: `path` is dotted (`items.0.quantity`), empty for the whole body. */
export const validationErrorItemSchema = z.object({
  path: z.string().meta({ description: 'Dotted path of the field (`items.0.quantity`); empty for the whole body.' }),
  message: z.string(),
});

/** zod schema of a problem details body; zod-openapi makes it the `Problem` component. */
export const problemDetailsSchema = z
  .object({
    type: z.string().meta({ description: 'URI reference of the problem type: `/problems/<code>` (dereference it for its documentation).' }),
    title: z.string().meta({ description: 'Short human summary of the problem type; the same for every occurrence of a code.' }),
    status: z.int().min(400).max(599).meta({ description: 'The HTTP status code of this answer.' }),
    detail: z.string().meta({ description: 'Human explanation of this occurrence.' }),
    instance: z
      .string()
      .optional()
      .meta({ description: 'The request path, without its query string; absent when the request line could not be read.' }),
    code: z.string().meta({ description: 'Stable machine-readable code; `type` is `/problems/<code>`.' }),
    requestId: z.string().meta({ description: 'The `X-Request-Id` of the answer, for finding it in the server log.' }),
    errors: z
      .array(validationErrorItemSchema)
      .optional()
      .meta({ description: 'For `ValidationFailed`: every field-level problem of the request.' }),
  })
  .catchall(z.unknown())
  .meta({
    id: 'Problem',
    description:
      'RFC 9457 problem details, sent as `application/problem+json` for every error. Members beyond the standard ones are extension members of the code (e.g. `productIds`, `seatIds`, `order`).',
  });

/** A problem details body; see the file header. */
export type ProblemDetails = z.infer<typeof problemDetailsSchema>;

/** The type URI of `code`: `/problems/<code>` (the code verbatim). */
export function problemTypeUri(code: string): string {
  return `${PROBLEM_TYPE_PREFIX}${code}`;
}

/** The fixed title of `code`; the code itself for one not in {@link problemTypes}. */
export function problemTitle(code: string): string {
  return isProblemCode(code) ? problemTypes[code].title : code;
}

/** What one error answer is about; {@link problemDetails} turns it into the body. */
export interface ProblemOccurrence {
  status: number;
  code: string;
  /** The occurrence-specific message. */
  detail: string;
  /** The request path without its query; omitted when unknown. */
  instance?: string | undefined;
  requestId: string;
  extensions?: ProblemExtensions | null | undefined;
}

/**
 * Builds the problem details body of an error answer.
 *
 * @throws TypeError when an extension member is named like a standard member.
 */
export function problemDetails(occurrence: ProblemOccurrence): ProblemDetails {
  const { status, code, detail, instance, requestId, extensions } = occurrence;
  assertProblemExtensions(extensions);
  return {
    type: problemTypeUri(code),
    title: problemTitle(code),
    status,
    detail,
    ...(instance === undefined ? {} : { instance }),
    code,
    requestId,
    ...extensions,
  };
}

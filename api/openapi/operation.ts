/**
 * Building blocks of the route table the OpenAPI document is made from: one
 * {@link DocumentedRoute} per route the API registers (method and Koa path, as the router
 * has them), with its operation; helpers for JSON answers, headers and problem answers.
 *
 * Every operation gets the problem answers any route can give ({@link COMMON_PROBLEMS}:
 * an unreadable request, a body over the limit, an internal error) on top of its own,
 * and each problem answer lists the codes it can carry, in its description and in the
 * `x-problem-codes` extension (which the contract tests check answers against).
 */
import { z } from 'zod';
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiParameters,
  ZodOpenApiRequestBodyObject,
  ZodOpenApiResponseObject,
} from 'zod-openapi';
import { PROBLEM_CONTENT_TYPE, problemDetailsSchema, problemTypeUri } from '../problem.ts';
import { problemTypes, type ProblemCode } from '../problem-types.ts';
import { entityIdParam } from '../validation.ts';
import type { Access } from '../auth/guard.ts';

/** The HTTP methods the API's routes use. */
export type RouteMethod = 'get' | 'post' | 'delete';

/** One route of the API and its documentation. */
export interface DocumentedRoute {
  method: RouteMethod;
  /** The path as registered on the router, Koa style (`/orders/:id`). */
  path: string;
  /** Who may call it; the router's guard (auth/guard.ts `guardRoutes`) reads it from here. */
  access: Access;
  operation: ZodOpenApiOperationObject;
}

/** The problem codes an operation can answer, by HTTP status. */
export type ProblemsByStatus = Partial<Record<number, readonly ProblemCode[]>>;

/**
 * Problems any route can answer, whatever it does; 503 `DatabaseUnavailable` (with
 * `Retry-After`) is left out of an operation that documents its own 503 answer (`/healthz`).
 */
export const COMMON_PROBLEMS: ProblemsByStatus = {
  400: ['BadRequest'],
  413: ['PayloadTooLarge'],
  500: ['InternalError'],
  503: ['DatabaseUnavailable'],
};

/** Problems every write (POST, DELETE) can give on top: the per-caller rate limit (middleware/rate-limit.ts). */
export const WRITE_PROBLEMS: ProblemsByStatus = { 429: ['RateLimited'] };

/** Problems of reading a JSON request body (middleware/json-body.ts). */
export const JSON_BODY_PROBLEMS: ProblemsByStatus = {
  400: ['ValidationFailed', 'MalformedJson', 'BadRequest'],
  413: ['PayloadTooLarge'],
  415: ['UnsupportedMediaType'],
};

/** `X-Request-Id`, on every answer. */
const RequestIdHeader = z.string().meta({
  description: 'The request id: the `X-Request-Id` sent (only `[A-Za-z0-9._:-]` kept, at most 100 characters) or a generated UUID.',
  header: { id: 'RequestId' },
});

/** The `X-Request-Id` request header every operation accepts. */
export const RequestIdParam = z
  .string()
  .optional()
  .meta({
    description: 'A request id to log this request under and echo back; one is generated when absent or unusable.',
    param: { id: 'RequestId', in: 'header', name: 'X-Request-Id' },
  });

/** The `Idempotency-Key` request header of the routes that start a saga or a top-up. */
export const IdempotencyKeyParam = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,200}$/)
  .optional()
  .meta({
    description:
      'Makes the request safe to repeat: the same key (for the same user) always names the same saga, which starts once. 1..200 characters of `A-Z a-z 0-9 _ . : -`. Reusing a key with another body answers 422 `IdempotencyKeyReused`.',
    param: { id: 'IdempotencyKey', in: 'header', name: 'Idempotency-Key' },
  });

/** The `Location` answer header of created or pending resources. */
export const LocationHeader = z.string().meta({ description: 'The path of the resource the answer is about.', header: { id: 'Location' } });

/** Answer headers every answer has, plus `extra`. */
export function answerHeaders(extra: Record<string, z.ZodType> = {}) {
  return z.object({ 'X-Request-Id': RequestIdHeader, ...extra });
}

/** A JSON answer of `schema`, with `X-Request-Id` and the `headers` given. */
export function jsonAnswer(schema: z.ZodType, description: string, headers: Record<string, z.ZodType> = {}): ZodOpenApiResponseObject {
  return { description, headers: answerHeaders(headers), content: { 'application/json': { schema } } };
}

/** A non-JSON answer of `mediaType`. */
export function textAnswer(mediaType: string, description: string, schema: z.ZodType, headers: Record<string, z.ZodType> = {}) {
  return { description, headers: answerHeaders(headers), content: { [mediaType]: { schema } } };
}

/** A JSON request body of `schema`. */
export function jsonBody(schema: z.ZodType, description: string, required = true): ZodOpenApiRequestBodyObject {
  return { description, required, content: { 'application/json': { schema } } };
}

/**
 * The problem answer of `status` carrying one of `codes`.
 * @throws Error for a code that is not a problem type, or whose type is never answered with `status`.
 */
export function problemAnswer(status: number, codes: readonly ProblemCode[]): ZodOpenApiResponseObject {
  for (const code of codes) {
    const statuses: readonly number[] = problemTypes[code]?.statuses ?? [];
    if (!statuses.includes(status)) throw new Error(`Problem type ${code} is not answered with ${status} (problem.ts says ${statuses.join(', ')})`);
  }
  const lines = codes.map((code) => `- [\`${code}\`](${problemTypeUri(code)}): ${problemTypes[code].title}.`);
  return {
    description: `Problem details; \`code\` is one of:\n${lines.join('\n')}`,
    headers: answerHeaders(),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problemDetailsSchema } },
    'x-problem-codes': [...codes],
  };
}

/** The name of the bearer security scheme in `components.securitySchemes`. */
export const BEARER_SCHEME = 'bearerAuth';

/**
 * Problems of authentication and access: every route that needs a token can answer 401
 * (`AuthenticationRequired`, `InvalidToken`) and 503 `IdentityProviderUnavailable` (the
 * issuer's keys could not be fetched); operator routes 403 `Forbidden` to users.
 */
export function accessProblems(access: Access): ProblemsByStatus {
  if (access === 'public') return {};
  const unauthenticated: ProblemsByStatus = { 401: ['AuthenticationRequired', 'InvalidToken'], 503: ['IdentityProviderUnavailable'] };
  return access === 'operator' ? { ...unauthenticated, 403: ['Forbidden'] } : unauthenticated;
}

/** The operation members of an access: `security` (none for public routes) and `x-access`. */
function accessMembers(access: Access) {
  return { security: access === 'public' ? [] : [{ [BEARER_SCHEME]: [] }], 'x-access': access };
}

/** What {@link operation} builds an operation from. */
export interface OperationSpec {
  /** Who may call it: anyone (`public`), a user or operator with a valid token (`user`), operators only (`operator`). */
  access: Access;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Path, query and header parameters as zod objects (path parameter names as in the Koa path). */
  params?: ZodOpenApiParameters;
  /** Extra header parameters (e.g. {@link IdempotencyKeyParam}). */
  headers?: z.ZodType[];
  requestBody?: ZodOpenApiRequestBodyObject;
  /** The successful (and other non-problem) answers by status. */
  answers: Record<number, ZodOpenApiResponseObject>;
  /** The operation's own problem answers; {@link COMMON_PROBLEMS} are added. */
  problems?: ProblemsByStatus;
}

/** Merges problem codes by status, keeping the first mention's order and no repeats. */
export function mergeProblems(...sets: ProblemsByStatus[]): ProblemsByStatus {
  const merged: Record<number, ProblemCode[]> = {};
  for (const set of sets) {
    for (const [status, codes] of Object.entries(set)) {
      const list = (merged[Number(status)] ??= []);
      for (const code of codes ?? []) if (!list.includes(code)) list.push(code);
    }
  }
  return merged;
}

/** One documented route: `method path` with the operation `spec` describes. */
export function route(method: RouteMethod, path: string, spec: OperationSpec): DocumentedRoute {
  const common = Object.fromEntries(Object.entries(COMMON_PROBLEMS).filter(([status]) => !(status in spec.answers)));
  if (method !== 'get') Object.assign(common, WRITE_PROBLEMS);
  const problems = mergeProblems(spec.problems ?? {}, accessProblems(spec.access), common);
  const responses: ZodOpenApiOperationObject['responses'] = {};
  for (const [status, answer] of Object.entries(spec.answers)) responses[status as `2${string}`] = answer;
  for (const [status, codes] of Object.entries(problems)) {
    if (responses[status as `4${string}`]) throw new Error(`${method} ${path}: ${status} is both an answer and a problem`);
    responses[status as `4${string}`] = problemAnswer(Number(status), codes ?? []);
  }
  return {
    method,
    path,
    access: spec.access,
    operation: {
      operationId: spec.operationId,
      tags: [spec.tag],
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      ...accessMembers(spec.access),
      ...(spec.params === undefined ? {} : { requestParams: spec.params }),
      parameters: [RequestIdParam, ...(spec.headers ?? [])],
      ...(spec.requestBody === undefined ? {} : { requestBody: spec.requestBody }),
      responses,
    },
  };
}

/** Path parameters `{ id }` of a route whose id is a positive 32-bit integer (validation.ts `EntityIdParams`), described. */
export function idParams(description: string) {
  return z.object({ id: entityIdParam.meta({ description: `${description} A positive 32-bit integer.` }) });
}

/** The OpenAPI path of a Koa path: `/orders/:id` -> `/orders/{id}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * What {@link readRoute} and {@link pagedListRoute} build a GET operation from: the
 * texts of {@link OperationSpec}, its parameters, and its one JSON answer (200).
 */
export interface JsonGetSpec {
  /** Who may call it (see {@link OperationSpec}). */
  access: Access;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** The 200 answer's body. */
  schema: z.ZodType;
  /** The 200 answer's description, e.g. `'The product.'`. */
  answer: string;
  /** Problems beyond the builder's own (e.g. `{ 503: ['TemporalUnavailable'] }`). */
  problems?: ProblemsByStatus;
}

/** Problems of a route that names an entity in its path: a malformed id, an unknown one. */
const ENTITY_PATH_PROBLEMS: ProblemsByStatus = { 400: ['ValidationFailed'], 404: ['NotFound'] };

/** Path parameters as zod-openapi takes them (e.g. {@link idParams}). */
type PathParams = NonNullable<ZodOpenApiParameters['path']>;

/** Query parameters as zod-openapi takes them (e.g. pagination.ts `pageQuery`). */
type QueryParams = NonNullable<ZodOpenApiParameters['query']>;

/** The operation of `GET path` answering `spec.schema` (200) with `params` and `problems`. */
function jsonGetRoute(path: string, spec: JsonGetSpec, params: ZodOpenApiParameters, problems: ProblemsByStatus): DocumentedRoute {
  return route('get', path, {
    access: spec.access,
    operationId: spec.operationId,
    tag: spec.tag,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    params,
    answers: { 200: jsonAnswer(spec.schema, spec.answer) },
    problems: mergeProblems(problems, spec.problems ?? {}),
  });
}

/**
 * A read of one resource by the id in its path (`GET /products/:id`): `idParams` the path
 * parameters (e.g. {@link idParams}), 200 `spec.schema`, 400 `ValidationFailed` for a
 * malformed id, 404 `NotFound` for an unknown one, plus `spec.problems`.
 */
export function readRoute(path: string, idParams: PathParams, spec: JsonGetSpec): DocumentedRoute {
  return jsonGetRoute(path, spec, { path: idParams }, ENTITY_PATH_PROBLEMS);
}

/**
 * A paged list (`GET /products?limit=&cursor=`): `query` its page query (pagination.ts
 * `pageQuery`), 200 a page `spec.schema` (`pageSchema`), 400 `ValidationFailed` for a bad
 * limit or cursor. With `ownerParams` the list belongs to the entity in the path
 * (`GET /users/:id/orders`), and an unknown owner answers 404 `NotFound`.
 */
export function pagedListRoute(path: string, query: QueryParams, spec: JsonGetSpec, ownerParams?: PathParams): DocumentedRoute {
  return ownerParams === undefined
    ? jsonGetRoute(path, spec, { query }, { 400: ['ValidationFailed'] })
    : jsonGetRoute(path, spec, { path: ownerParams, query }, ENTITY_PATH_PROBLEMS);
}

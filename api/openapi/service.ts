/**
 * The documented service routes: health, metrics, this document, the reference page and
 * the problem type pages (handlers: routes/health.ts, metrics.ts, openapi.ts, problems.ts).
 */
import { z } from 'zod';
import { HealthSchema } from '../health/schemas.ts';
import { problemTypeDocumentSchema } from '../problem.ts';
import { answerHeaders, jsonAnswer, route, type DocumentedRoute } from './operation.ts';
import { DOCS_ASSET_NAMES } from './swagger-ui.ts';

/** `ETag` of an answer that can be revalidated with `If-None-Match`. */
const ETagHeader = z.string().meta({ description: 'Strong validator of the body; send it back in `If-None-Match` to get a 304.', header: { id: 'ETag' } });

/** `Cache-Control` of an answer. */
const CacheControlHeader = z.string().meta({ description: 'How long the answer may be reused.', header: { id: 'CacheControl' } });

/** The 304 answer of a conditional GET whose `If-None-Match` matched. */
const notModified = { description: 'Not modified: the `If-None-Match` ETag is current.', headers: answerHeaders({ ETag: ETagHeader }) };

/** A non-JSON answer of `mediaType`. */
function textAnswer(mediaType: string, description: string, schema: z.ZodType, headers: Record<string, z.ZodType> = {}) {
  return { description, headers: answerHeaders(headers), content: { [mediaType]: { schema } } };
}

/** The service routes. */
export const serviceRoutes: DocumentedRoute[] = [
  route('get', '/healthz', {
    operationId: 'getHealth',
    tag: 'Service',
    summary: 'Check that the API reaches PostgreSQL and Temporal',
    description: 'Each dependency must answer within 2 s. A failing check answers 503 with the same body shape.',
    answers: {
      200: jsonAnswer(HealthSchema, 'Every check is ok.'),
      503: jsonAnswer(HealthSchema, 'A dependency did not answer: `status` and the failing check are `unavailable`.'),
    },
  }),

  route('get', '/metrics', {
    operationId: 'getMetrics',
    tag: 'Service',
    summary: 'Prometheus metrics of the API process',
    description: 'The default process metrics, `http_requests_total` and `http_request_duration_seconds` (labels `method`, `route`, `status`).',
    answers: {
      200: textAnswer('text/plain', 'The Prometheus text exposition format, version 0.0.4.', z.string()),
    },
  }),

  route('get', '/openapi.json', {
    operationId: 'getOpenApiDocument',
    tag: 'Documentation',
    summary: 'This OpenAPI 3.1 document',
    description: 'The contract of the API, generated from the zod schemas the routes validate with. The same bytes as `openapi.json` in the repository.',
    answers: {
      200: jsonAnswer(
        z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }).meta({ description: 'An OpenAPI 3.1 document.' }),
        'The document.',
        { ETag: ETagHeader, 'Cache-Control': CacheControlHeader },
      ),
      304: notModified,
    },
  }),

  route('get', '/docs', {
    operationId: 'getApiReference',
    tag: 'Documentation',
    summary: 'Interactive API reference (Swagger UI)',
    description: 'An HTML page that renders `/openapi.json` with Swagger UI, served from this server (no CDN).',
    answers: { 200: textAnswer('text/html', 'The reference page.', z.string(), { 'Cache-Control': CacheControlHeader }) },
  }),

  route('get', '/docs/:asset', {
    operationId: 'getApiReferenceAsset',
    tag: 'Documentation',
    summary: 'A file of the API reference page',
    description: 'Swagger UI\'s stylesheet, scripts and icons from the installed `swagger-ui-dist` package, and the script that starts it. Cached for a day, then revalidated by ETag.',
    params: { path: z.object({ asset: z.enum(DOCS_ASSET_NAMES).meta({ description: 'The file name.' }) }) },
    answers: {
      200: {
        description: 'The file.',
        headers: answerHeaders({ ETag: ETagHeader, 'Cache-Control': CacheControlHeader }),
        content: {
          'text/css': { schema: z.string() },
          'text/javascript': { schema: z.string() },
          'image/png': { schema: z.string().meta({ contentMediaType: 'image/png' }) },
        },
      },
      304: notModified,
    },
    problems: { 404: ['NotFound'] },
  }),

  route('get', '/problems/:code', {
    operationId: 'getProblemType',
    tag: 'Problems',
    summary: 'Documentation of a problem type',
    description: 'The target of the `type` URI (`/problems/<code>`) of every problem answer. Every problem type is listed in the description of this tag and in the document\'s `x-problem-types`.',
    params: { path: z.object({ code: z.string().meta({ description: 'The problem code, e.g. `OutOfStock`.' }) }) },
    answers: { 200: jsonAnswer(problemTypeDocumentSchema, 'The problem type.') },
    problems: { 404: ['NotFound'] },
  }),
];

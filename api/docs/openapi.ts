/** The documented routes of the contract and its reference page (handlers: docs/routes.ts). */
import { z } from 'zod';
import { answerHeaders, jsonAnswer, route, textAnswer, type DocumentedRoute } from '../openapi/operation.ts';
import { DOCS_ASSET_NAMES } from './views.ts';

/** `ETag` of an answer that can be revalidated with `If-None-Match`. */
const ETagHeader = z.string().meta({ description: 'Strong validator of the body; send it back in `If-None-Match` to get a 304.', header: { id: 'ETag' } });

/** `Cache-Control` of an answer. */
const CacheControlHeader = z.string().meta({ description: 'How long the answer may be reused.', header: { id: 'CacheControl' } });

/** The 304 answer of a conditional GET whose `If-None-Match` matched. */
const notModified = { description: 'Not modified: the `If-None-Match` ETag is current.', headers: answerHeaders({ ETag: ETagHeader }) };

/** The routes of `/openapi.json` and the reference page. */
export const docsRoutes: DocumentedRoute[] = [
  route('get', '/openapi.json', {
    access: 'public',
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
    access: 'public',
    operationId: 'getApiReference',
    tag: 'Documentation',
    summary: 'Interactive API reference (Swagger UI)',
    description: 'An HTML page that renders `/openapi.json` with Swagger UI, served from this server (no CDN).',
    answers: { 200: textAnswer('text/html', 'The reference page.', z.string(), { 'Cache-Control': CacheControlHeader }) },
  }),

  route('get', '/docs/:asset', {
    access: 'public',
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
];

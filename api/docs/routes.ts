/**
 * The API's contract and its reference page.
 *
 * - `GET /openapi.json`: 200 the OpenAPI 3.1 document (api/openapi/document.ts), built once
 *   when the app is built; `ETag` and `Cache-Control: no-cache`, 304 for a matching
 *   `If-None-Match`.
 * - `GET /docs`: 200 the Swagger UI page (text/html) reading `/openapi.json`.
 * - `GET /docs/:asset`: 200 one of Swagger UI's files from node_modules (swagger-ui.css,
 *   swagger-ui-bundle.js, swagger-ui-standalone-preset.js, the favicons) or the script
 *   that starts it, cached for a day and revalidated by ETag (304); 404 `NotFound` for
 *   any other name.
 */
import type { ParameterizedContext } from 'koa';
import type { AppRouter, AppState } from '../context.ts';
import { notFound } from '../errors.ts';
import { openApiJson } from '../openapi/document.ts';
import { DOCS_CONTENT_SECURITY_POLICY, DOCS_PAGE, etagOf, loadDocsAsset } from './views.ts';

/** How long a browser may reuse a Swagger UI file before revalidating it, in seconds. */
const ASSET_MAX_AGE_SECONDS = 86_400;

/** Answers 200 with `body`, or 304 when the request's `If-None-Match` has `etag`. */
function sendFresh(ctx: ParameterizedContext<AppState>, body: string | Buffer, contentType: string, etag: string): void {
  ctx.status = 200;
  ctx.etag = etag;
  // Koa decides freshness from the request's validators and the answer's ETag (needs a 2xx status).
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.type = contentType;
  ctx.body = body;
}

/** Registers `GET /openapi.json`, `GET /docs` and `GET /docs/:asset`. */
export function registerDocsRoutes(router: AppRouter): void {
  // Built here, when the app is built, so a broken document fails at start and not on a request.
  const json = openApiJson();
  const etag = etagOf(json);

  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    sendFresh(ctx, json, 'application/json; charset=utf-8', etag);
  });

  router.get('/docs', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_PAGE;
  });

  router.get('/docs/:asset', async (ctx) => {
    const asset = await loadDocsAsset(ctx.params['asset'] ?? '');
    if (!asset) throw notFound('such file of the API reference');
    ctx.set('Cache-Control', `public, max-age=${ASSET_MAX_AGE_SECONDS}`);
    sendFresh(ctx, asset.body, asset.contentType, asset.etag);
  });
}

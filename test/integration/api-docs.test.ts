/**
 * The API's contract routes in a running server: `GET /openapi.json` serves the committed
 * document with an ETag, `GET /docs` the Swagger UI page, whose files come from this
 * server (swagger-ui-dist) with their content types and caching headers. Every answer is
 * checked against the OpenAPI document. No Temporal server: these routes never reach it.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OPENAPI_FILE } from '../../scripts/openapi.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { expectProblem } from '../helpers/http.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

/**
 * Sends a GET (or HEAD); `max-age=0` keeps fetch from adding `Cache-Control: no-cache` to
 * a conditional request, which would make the server ignore `If-None-Match`.
 */
function request(path: string, init: { method?: string; etag?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = init.etag ? { 'If-None-Match': init.etag, 'Cache-Control': 'max-age=0' } : {};
  return fetch(new URL(path, api.url), { method: init.method ?? 'GET', headers });
}

describe('GET /openapi.json', () => {
  it('serves the committed document, revalidated by its ETag', async () => {
    const res = await request('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(await readFile(OPENAPI_FILE, 'utf8'));
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);

    const again = await request('/openapi.json', { etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await request('/openapi.json', { etag: '"other"' })).status).toBe(200);
  });
});

describe('GET /docs', () => {
  it('serves the Swagger UI page, loading only files of this server', async () => {
    const res = await request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls.sort()).toEqual(
      [
        '/docs/favicon-16x16.png',
        '/docs/favicon-32x32.png',
        '/docs/swagger-initializer.js',
        '/docs/swagger-ui-bundle.js',
        '/docs/swagger-ui-standalone-preset.js',
        '/docs/swagger-ui.css',
      ].sort(),
    );
    const initializer = await (await request('/docs/swagger-initializer.js')).text();
    expect(initializer).toContain("url: '/openapi.json'");
  });

  it.each([
    ['swagger-ui.css', 'text/css; charset=utf-8'],
    ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
    ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
    ['favicon-32x32.png', 'image/png'],
    ['favicon-16x16.png', 'image/png'],
  ])('serves %s from swagger-ui-dist as %s, cached a day and revalidated by ETag', async (name, contentType) => {
    const res = await request(`/docs/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(contentType);
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(SWAGGER_UI_DIR, name)))).toBe(true);

    const again = await request(`/docs/${name}`, { etag: res.headers.get('etag')! });
    expect(again.status).toBe(304);
    const head = await request(`/docs/${name}`, { method: 'HEAD' });
    expect({ status: head.status, type: head.headers.get('content-type') }).toEqual({ status: 200, type: contentType });
  });

  it('answers 404 NotFound for any other file', async () => {
    for (const name of ['index.html', 'swagger-ui.js.map', '..%2Fpackage.json', 'oauth2-redirect.html']) {
      const res = await request(`/docs/${name}`);
      expectProblem({ status: res.status, headers: res.headers, body: await res.json() }, 404, 'NotFound', `/docs/${name}`);
    }
  });
});

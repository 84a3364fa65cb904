/**
 * The interactive API reference at `GET /docs`: Swagger UI from the installed
 * `swagger-ui-dist` package, served from node_modules (no CDN), pointed at
 * `/openapi.json`. The page loads only files of this server, so it works offline and
 * under a `script-src 'self'` Content-Security-Policy.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where Swagger UI's files are (the installed package's folder). */
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The file served at `/docs/<name>`, with its content type; `text` instead of a file for our own. */
interface DocsAsset {
  contentType: string;
  file?: string;
  text?: string;
}

/** Starts Swagger UI on the page: the standalone layout, reading `/openapi.json`. */
const INITIALIZER = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
    // No badge from the public validator: the page makes no request outside this server.
    validatorUrl: null,
  });
});
`;

/** The files under `/docs/`, by name. */
export const DOCS_ASSETS: Readonly<Record<string, DocsAsset>> = {
  'swagger-ui.css': { contentType: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { contentType: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js' },
  'swagger-ui-standalone-preset.js': { contentType: 'text/javascript; charset=utf-8', file: 'swagger-ui-standalone-preset.js' },
  'swagger-initializer.js': { contentType: 'text/javascript; charset=utf-8', text: INITIALIZER },
  'favicon-32x32.png': { contentType: 'image/png', file: 'favicon-32x32.png' },
  'favicon-16x16.png': { contentType: 'image/png', file: 'favicon-16x16.png' },
};

/** The names of {@link DOCS_ASSETS}. */
export const DOCS_ASSET_NAMES = Object.keys(DOCS_ASSETS);

/** The HTML page of `GET /docs`. */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API reference</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/swagger-initializer.js"></script>
</body>
</html>
`;

/**
 * Content-Security-Policy of the docs page: its own files only. Swagger UI sets inline
 * styles and shows data: images, and fetches the document from this origin.
 */
export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** A loaded asset: its bytes, content type and strong ETag. */
export interface LoadedAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** The ETag of `body`: a quoted hash of its bytes. */
export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

const loaded = new Map<string, Promise<LoadedAsset>>();

/**
 * The asset `name`, read from swagger-ui-dist once per process and kept in memory (the
 * bundle is about 1.5 MB).
 * @returns undefined for a name that is not in {@link DOCS_ASSETS}.
 * @throws the read error when the package's file is missing (an installation problem).
 */
export function loadDocsAsset(name: string): Promise<LoadedAsset> | undefined {
  if (!Object.hasOwn(DOCS_ASSETS, name)) return undefined;
  let asset = loaded.get(name);
  if (!asset) {
    const { contentType, file, text } = DOCS_ASSETS[name]!;
    asset = (async () => {
      const body = file === undefined ? Buffer.from(text ?? '') : await readFile(join(SWAGGER_UI_DIR, file));
      return { body, contentType, etag: etagOf(body) };
    })();
    // A failed read is not cached: the next request tries again.
    asset.catch(() => loaded.delete(name));
    loaded.set(name, asset);
  }
  return asset;
}

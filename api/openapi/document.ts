/**
 * The OpenAPI 3.1 document of the API, generated with zod-openapi from the route table
 * ({@link DOCUMENTED_ROUTES}: each resource's operations, api/<resource>/openapi.ts) and
 * the zod schemas the routes validate requests with and
 * type their answers by. Served at `GET /openapi.json`, rendered at `GET /docs`, and
 * committed as `openapi.json` (`npm run openapi`; a test fails when it is stale).
 *
 * The route table lists the routes the router registers (api/app.ts); a test compares
 * the two, so a route cannot be added or removed on one side only.
 */
import { createDocument } from 'zod-openapi';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../pagination.ts';
import { PROBLEM_CONTENT_TYPE, problemTypeUri } from '../problem.ts';
import { problemTypes } from '../problem-types.ts';
import { authRoutes } from '../auth/openapi.ts';
import { concertRoutes } from '../concerts/openapi.ts';
import { couponRoutes } from '../coupons/openapi.ts';
import { docsRoutes } from '../docs/openapi.ts';
import { healthRoutes } from '../health/openapi.ts';
import { orderRoutes } from '../orders/openapi.ts';
import { pointRoutes } from '../points/openapi.ts';
import { problemRoutes } from '../problems/openapi.ts';
import { productRoutes } from '../products/openapi.ts';
import { queueRoutes } from '../queue/openapi.ts';
import { reservationRoutes } from '../reservations/openapi.ts';
import { BEARER_SCHEME, openApiPath, type DocumentedRoute } from './operation.ts';

/** An OpenAPI document as zod-openapi builds it. */
export type OpenApiDocument = ReturnType<typeof createDocument>;

/** Every route of the API with its documentation. */
export const DOCUMENTED_ROUTES: readonly DocumentedRoute[] = [
  ...orderRoutes,
  ...reservationRoutes,
  ...queueRoutes,
  ...productRoutes,
  ...concertRoutes,
  ...pointRoutes,
  ...couponRoutes,
  ...healthRoutes,
  ...docsRoutes,
  ...problemRoutes,
  ...authRoutes,
];

/**
 * `info.version`: the version of the contract. Raise the minor for an addition and the
 * major for a change that breaks clients.
 */
export const API_VERSION = '0.2.0';

/** Every problem type, as `x-problem-types` lists them. */
function problemTypeList() {
  return Object.entries(problemTypes).map(([code, { statuses, title, description }]) => ({
    type: problemTypeUri(code),
    code,
    title,
    statuses: [...statuses],
    description,
  }));
}

/** A Markdown table of every problem type. */
function problemTypeTable(): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const rows = problemTypeList().map(
    (p) => `| [\`${p.type}\`](${p.type}) | ${p.statuses.join(', ')} | ${escape(p.title)} | ${escape(p.description)} |`,
  );
  return ['| Type | Status | Title | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

const DESCRIPTION = `Durable sagas on Temporal behind a small shop and box office: orders paid with points, seat reservations held until paid, and a point balance.

**Units.** Amounts are integers: prices and totals in won (\`...Won\`), balances and movements in points (\`...Points\`); one point pays one won. Instants are ISO 8601 in UTC with milliseconds (\`2026-11-21T08:30:15.123Z\`); saga step times (\`at\`) are epoch milliseconds; durations in configuration are ms.

**Sagas.** \`POST /orders\`, \`POST /reservations\`, their payment and the top-ups start or signal a Temporal workflow and wait a bounded time (\`ORDER_OUTCOME_WAIT_MS\`, 5 s by default) for its answer; 202 means it is still running (read the \`Location\`). Send an \`Idempotency-Key\` to make a request safe to repeat.

**Lists** (\`GET /products\`, \`GET /users/{id}/orders\`, \`GET /users/{id}/points/ledger\`) answer \`{ "items": [...], "next": "<path of the next page>" | null }\`. \`limit\` is 1..${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT}); \`cursor\` is opaque: follow \`next\` (same limit) until it is null.

**Errors** are RFC 9457 problem details (\`${PROBLEM_CONTENT_TYPE}\`, schema \`Problem\`): \`type\` is \`/problems/<code>\`, which \`GET /problems/{code}\` documents; \`code\` is stable; \`requestId\` is the answer's \`X-Request-Id\`. Each operation lists the codes each of its error statuses can carry. Besides them, any request can be refused 404 \`NotFound\` (no such route), 405 \`MethodNotAllowed\`, 501 \`NotImplemented\`, and, before it reaches a route, 400 \`BadRequest\`, 408 \`RequestTimeout\`, 413 \`PayloadTooLarge\`, 417 \`ExpectationFailed\` or 431 \`HeadersTooLarge\`. Every problem type is listed under **Problems** below and in \`x-problem-types\`.

**Authentication.** Send a bearer token (RFC 6750): \`Authorization: Bearer <JWT>\`, signed by the identity provider this deployment trusts (\`AUTH_JWKS_URL\`, \`AUTH_ISSUER\`, \`AUTH_AUDIENCE\`), or locally by the development issuer (\`npm run token -- --user 1\`, keys at \`GET /.well-known/jwks.json\`). The token's \`sub\` is the user you act as; the role \`operator\` (claim \`roles\` by default) makes an operator. Each operation's \`x-access\` says who may call it: \`public\` (no token; an \`Authorization\` header is ignored), \`user\` (any valid token: a user sees and acts on their own orders, reservations and points only, another user's answer 404 \`NotFound\`; an operator reads any of them but places nothing), \`operator\` (the operator role; 403 \`Forbidden\` for a user). A missing or refused token answers 401 \`AuthenticationRequired\` or \`InvalidToken\` with \`WWW-Authenticate: Bearer error="invalid_token"\`.`;

/**
 * Builds the document (the same value on every call).
 * @throws Error for a route documented twice, or a problem code answered with a status its type does not list.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  const paths: Record<string, Record<string, DocumentedRoute['operation']>> = {};
  for (const { method, path, operation } of DOCUMENTED_ROUTES) {
    const item = (paths[openApiPath(path)] ??= {});
    if (item[method]) throw new Error(`${method.toUpperCase()} ${path} is documented twice`);
    item[method] = operation;
  }
  const document = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Temporal saga reference API',
      version: API_VERSION,
      description: DESCRIPTION,
    },
    tags: [
      { name: 'Orders', description: 'Checkout sagas: reserve stock, pay with points, confirm; a user\'s orders.' },
      { name: 'Reservations', description: 'Seat reservation sagas: hold seats, pay before the hold expires, or cancel.' },
      { name: 'Queue', description: 'The waiting queue of a performance: tokens admitted in arrival order, a bounded number ACTIVE at once; holding seats and paying need an ACTIVE one.' },
      { name: 'Products', description: 'The catalog (Inventory read model).' },
      { name: 'Concerts', description: 'Concerts, performances and seat maps (Reservations read model).' },
      { name: 'Points', description: 'Point balances, their ledger and top-ups. One point pays one won.' },
      { name: 'Coupons', description: 'Coupon campaigns (first come, first served, limited quantity) and a user\'s coupons.' },
      { name: 'Operations', description: 'Operator actions: they need a token with the operator role.' },
      { name: 'Service', description: 'Health. Prometheus metrics are not on this port: operators scrape them at `API_METRICS_ADDRESS`.' },
      { name: 'Documentation', description: 'This document and the interactive reference.' },
      { name: 'Problems', description: `Every error answer is RFC 9457 problem details; its \`type\` is one of these:\n\n${problemTypeTable()}` },
    ],
    paths,
    components: {
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT from the identity provider (or `npm run token` locally); its `sub` is the user id.',
        },
      },
    },
    'x-problem-types': problemTypeList(),
  });
  return canonical(document);
}

/** Sorts the keys of the maps whose order is not meaningful, so the output is stable. */
function canonical(document: OpenApiDocument): OpenApiDocument {
  const sorted = <T>(map: Record<string, T> | undefined, compare?: (a: string, b: string) => number) =>
    map === undefined ? undefined : Object.fromEntries(Object.entries(map).sort(([a], [b]) => (compare ? compare(a, b) : a < b ? -1 : a > b ? 1 : 0)));
  const copy = structuredClone(document);
  copy.paths = sorted(copy.paths);
  for (const item of Object.values(copy.paths ?? {})) {
    for (const method of ['get', 'post', 'delete'] as const) {
      const operation = item[method];
      if (operation?.responses) operation.responses = sorted(operation.responses as Record<string, unknown>) as typeof operation.responses;
    }
  }
  if (copy.components) {
    const components = copy.components as Record<string, Record<string, unknown> | undefined>;
    for (const key of Object.keys(components).sort()) components[key] = sorted(components[key]);
    copy.components = sorted(components) as typeof copy.components;
  }
  return copy;
}

let cached: { document: OpenApiDocument; json: string } | undefined;

/** The document, built once per process. */
export function openApiDocument(): OpenApiDocument {
  cached ??= serialize(buildOpenApiDocument());
  return cached.document;
}

/** The document as `openapi.json` holds it and `GET /openapi.json` serves it: 2-space indented, with a final newline. */
export function openApiJson(): string {
  cached ??= serialize(buildOpenApiDocument());
  return cached.json;
}

function serialize(document: OpenApiDocument): { document: OpenApiDocument; json: string } {
  return { document, json: `${JSON.stringify(document, null, 2)}\n` };
}

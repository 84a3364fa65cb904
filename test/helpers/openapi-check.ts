/**
 * Contract checks against the OpenAPI document (api/openapi/document.ts).
 *
 * {@link recordContract} watches an API server in the test process and checks every
 * answer it gives against the document: the status must be documented for the matched
 * operation, the media type must be one of that answer's, the JSON body must validate
 * (ajv, JSON Schema 2020-12, the dialect of OpenAPI 3.1) against its schema, a problem's
 * `code` must be one the answer lists in `x-problem-codes`, and the documented headers
 * must be present. An answer to a path or method no operation has (404, 405, 501) must be
 * a valid problem. Suites call {@link expectNoContractViolations} in afterAll.
 *
 * {@link contractAjv} compiles the document's schemas for the structural test too.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { openApiDocument, type OpenApiDocument } from '../../api/openapi/document.ts';

/** `$id` under which the document's component schemas are registered with ajv. */
const COMPONENTS_ID = 'urn:openapi:components';

/** One answer as the recorder saw it (without its body, so long suites keep little). */
export interface RecordedExchange {
  method: string;
  url: string;
  status: number;
  contentType: string | undefined;
  /** `METHOD /openapi/path` of the matched operation; undefined when none matched. */
  operation: string | undefined;
}

/** What {@link recordContract} returns. */
export interface ContractRecorder {
  /** Every answer seen so far. */
  readonly exchanges: readonly RecordedExchange[];
  /** Every violation so far, one line each. */
  readonly violations: readonly string[];
  /** Stops watching the server. */
  stop(): void;
}

/** The document with every `#/components/schemas/X` reference pointing into {@link COMPONENTS_ID}. */
function retargetRefs<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/$defs/`)) as T;
}

let shared: { ajv: Ajv2020; document: OpenApiDocument } | undefined;

/**
 * An ajv (draft 2020-12) that knows the document's component schemas, and the document
 * with its schema references retargeted at them, so any schema of the document compiles
 * on its own. `format`s are accepted unchecked: zod writes a `pattern` beside each.
 */
export function contractAjv(document: OpenApiDocument = openApiDocument()): { ajv: Ajv2020; document: OpenApiDocument } {
  if (document === openApiDocument() && shared) return shared;
  const ajv = new Ajv2020({ strict: true, allErrors: true, formats: { uuid: true, 'date-time': true } });
  const schemas = (document.components?.schemas ?? {}) as Record<string, object>;
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: retargetRefs(schemas) });
  const result = { ajv, document: retargetRefs(document) };
  if (document === openApiDocument()) shared = result;
  return result;
}

/** An operation of the document, found by method and path. */
interface MatchedOperation {
  key: string;
  responses: Record<string, ResponseDoc>;
}

/** The parts of a response object the checks use. */
interface ResponseDoc {
  content?: Record<string, { schema?: object }>;
  headers?: Record<string, { required?: boolean } | { $ref: string }>;
  'x-problem-codes'?: string[];
}

/** Path matchers of the document's paths, literal segments first. */
function pathMatchers(document: OpenApiDocument): { path: string; pattern: RegExp }[] {
  return Object.keys(document.paths ?? {})
    .map((path) => {
      const source = path
        .split('/')
        .map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
        .join('/');
      // Like @koa/router's defaults: case-insensitive, an optional trailing slash.
      return { path, pattern: new RegExp(`^${source}/?$`, 'i'), params: (path.match(/\{/g) ?? []).length };
    })
    .sort((a, b) => a.params - b.params)
    .map(({ path, pattern }) => ({ path, pattern }));
}

/** The media type of a Content-Type value, lower-cased, without parameters. */
function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** Validates answers against the document; one per recorder. */
class ContractChecker {
  readonly #ajv: Ajv2020;
  readonly #document: OpenApiDocument;
  readonly #matchers: { path: string; pattern: RegExp }[];
  readonly #validators = new Map<string, ValidateFunction>();

  constructor() {
    const { ajv, document } = contractAjv();
    this.#ajv = ajv;
    this.#document = document;
    this.#matchers = pathMatchers(document);
  }

  /** The operation `method url` reaches, or undefined. */
  match(method: string, url: string): MatchedOperation | undefined {
    const pathname = url.split('?')[0] ?? url;
    const found = this.#matchers.find((m) => m.pattern.test(pathname));
    if (!found) return undefined;
    // The router answers HEAD with the GET route.
    const verb = method === 'HEAD' ? 'get' : method.toLowerCase();
    const item = this.#document.paths?.[found.path] as Record<string, { responses?: Record<string, ResponseDoc> }> | undefined;
    const operation = item?.[verb];
    return operation?.responses ? { key: `${verb.toUpperCase()} ${found.path}`, responses: operation.responses } : undefined;
  }

  #validator(key: string, schema: object): ValidateFunction {
    let validate = this.#validators.get(key);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#validators.set(key, validate);
    }
    return validate;
  }

  #problemValidator(): ValidateFunction {
    return this.#validator('Problem', { $ref: `${COMPONENTS_ID}#/$defs/Problem` });
  }

  /** The violations of one answer (empty when it keeps the contract). */
  check(exchange: RecordedExchange, body: unknown, headers: Record<string, unknown>, hasBody: boolean): string[] {
    const { method, status } = exchange;
    const mediaType = mediaTypeOf(exchange.contentType);
    const matched = this.match(method, exchange.url);
    if (!matched) {
      // No operation: the router's own 404/405/501 (or an OPTIONS answer), a problem when it has a body.
      if (!hasBody) return method === 'OPTIONS' || method === 'HEAD' ? [] : [`${status} without a body`];
      if (mediaType !== 'application/problem+json') return [`${status} for no operation is ${mediaType}, not a problem`];
      return this.#errors('Problem', this.#problemValidator(), body);
    }
    const doc = matched.responses[String(status)] ?? matched.responses[`${String(status)[0]}XX`] ?? matched.responses['default'];
    if (!doc) return [`${matched.key}: status ${status} is not documented`];
    const violations: string[] = [];
    for (const [name, header] of Object.entries(doc.headers ?? {})) {
      const required = '$ref' in header ? true : header.required === true;
      if (required && headers[name.toLowerCase()] === undefined) violations.push(`${matched.key} ${status}: header ${name} missing`);
    }
    const content = doc.content ?? {};
    if (method === 'HEAD' || status === 304) return violations;
    if (!hasBody) {
      if (Object.keys(content).length === 0) return violations;
      return [...violations, `${matched.key} ${status}: documented with a body, answered without one`];
    }
    const media = mediaType === undefined ? undefined : content[mediaType];
    if (!media) return [...violations, `${matched.key} ${status}: media type ${mediaType} is not one of ${Object.keys(content).join(', ') || 'none'}`];
    if (!(mediaType === 'application/json' || mediaType?.endsWith('+json')) || !media.schema) return violations;
    violations.push(...this.#errors(`${matched.key} ${status} ${mediaType}`, this.#validator(`${matched.key} ${status} ${mediaType}`, media.schema), body));
    const codes = doc['x-problem-codes'];
    const code = (body as { code?: unknown } | null)?.code;
    if (codes && !codes.includes(String(code))) violations.push(`${matched.key} ${status}: problem code ${String(code)} is not one of ${codes.join(', ')}`);
    return violations;
  }

  #errors(what: string, validate: ValidateFunction, body: unknown): string[] {
    if (validate(body)) return [];
    return [`${what}: ${this.#ajv.errorsText(validate.errors, { separator: '; ' })} in ${JSON.stringify(body).slice(0, 500)}`];
  }
}

/** Largest body kept for checking, in bytes (Swagger UI's bundle is larger and is not JSON). */
const MAX_CAPTURED_BYTES = 4 * 1024 * 1024;

/** Keeps what `res` writes, and calls `done` with it once the answer is sent. */
function captureBody(res: ServerResponse, done: (body: Buffer, truncated: boolean) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const buffer = Buffer.isBuffer(chunk)
      ? chunk
      : typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > MAX_CAPTURED_BYTES) truncated = true;
    else chunks.push(buffer);
  };
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    keep(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    keep(chunk, rest[0]);
    return (end as (...args: unknown[]) => ServerResponse)(chunk, ...rest);
  }) as typeof res.end;
  res.once('finish', () => done(Buffer.concat(chunks), truncated));
}

/**
 * Starts checking every answer of `target` (a server of api/server.ts, or its Node
 * server) against the OpenAPI document. Answers are checked when they finish; read
 * `violations` (or call {@link expectNoContractViolations}) after the requests.
 */
export function recordContract(target: Server | { server: Server }): ContractRecorder {
  const server = 'server' in target ? target.server : target;
  const checker = new ContractChecker();
  const exchanges: RecordedExchange[] = [];
  const violations: string[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    captureBody(res, (raw, truncated) => {
      const contentType = res.getHeader('content-type')?.toString();
      const mediaType = mediaTypeOf(contentType);
      let body: unknown = undefined;
      const json = mediaType === 'application/json' || mediaType?.endsWith('+json');
      if (raw.length > 0 && json && !truncated) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          violations.push(`${method} ${url} -> ${res.statusCode}: the ${mediaType} body is not JSON`);
          return;
        }
      } else if (raw.length > 0 && mediaType?.startsWith('text/')) body = raw.toString('utf8');
      const exchange: RecordedExchange = {
        method,
        url,
        status: res.statusCode,
        contentType,
        operation: checker.match(method, url)?.key,
      };
      exchanges.push(exchange);
      const hasBody = raw.length > 0 || truncated;
      for (const violation of checker.check(exchange, body, res.getHeaders(), hasBody)) {
        violations.push(`${method} ${url.slice(0, 200)} -> ${res.statusCode}: ${violation}`);
      }
    });
  };
  // Before Koa's listener, so the answer's writes are seen from the first one.
  server.prependListener('request', onRequest);
  return {
    exchanges,
    violations,
    stop: () => void server.off('request', onRequest),
  };
}

/** Fails the test when any answer seen by `recorder` broke the contract (lists them all). */
export function expectNoContractViolations(recorder: ContractRecorder | undefined): void {
  if (!recorder || recorder.violations.length === 0) return;
  // A plain Error rather than jest's expect, so that tools running the stack outside jest
  // (test/tools/record-histories.ts) can import this module.
  throw new Error(`${recorder.violations.length} answers broke the OpenAPI contract:\n${JSON.stringify(recorder.violations, null, 2)}`);
}

/**
 * The OpenAPI document (api/openapi/document.ts): it documents exactly the routes the
 * router has, the committed openapi.json is the generated one, and it holds together as
 * OpenAPI 3.1 (references resolve, operations answer, every schema compiles as JSON
 * Schema 2020-12).
 */
import { describe, it, expect } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { createRouter } from '../../api/app.ts';
import { buildOpenApiDocument, openApiDocument, openApiJson } from '../../api/openapi/document.ts';
import { openApiPath } from '../../api/openapi/operation.ts';
import { problemTypeUri } from '../../api/problem.ts';
import { problemTypes } from '../../api/problem-types.ts';
import type { Orm } from '../../db/orm.ts';
import { OPENAPI_FILE } from '../../scripts/openapi.ts';
import { testConfig } from '../helpers/db.ts';
import { contractAjv } from '../helpers/openapi-check.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** `METHOD /path` of every route the app's router registers, paths in OpenAPI form. */
function routedOperations(): string[] {
  // Registration only reads the config; no route runs here.
  const deps = { orm: {} as Orm, client: {} as Client, config: testConfig(), logger: pino({ level: 'silent' }) };
  const router = createRouter(deps);
  return router.stack.flatMap((layer) =>
    layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${openApiPath(String(layer.path))}`),
  );
}

/** `METHOD /path` of every operation of the document. */
function documentedOperations(): string[] {
  return Object.entries(openApiDocument().paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((method) => (item as Record<string, unknown>)[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

/** Every `$ref` in `value`, with where it is. */
function refsIn(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => refsIn(item, `${at}/${i}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string' ? [{ ref: child, at }] : refsIn(child, `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`),
  );
}

/** The value a local JSON pointer (`#/a/b`) points at in `document`, or undefined. */
function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), document);
}

describe('the OpenAPI document', () => {
  it('documents every route of the router, and only those', () => {
    const routed = routedOperations().sort();
    const documented = documentedOperations().sort();
    expect(new Set(routed).size).toBe(routed.length);
    expect({ routedButNotDocumented: routed.filter((op) => !documented.includes(op)) }).toEqual({ routedButNotDocumented: [] });
    expect({ documentedButNotRouted: documented.filter((op) => !routed.includes(op)) }).toEqual({ documentedButNotRouted: [] });
  });

  it('is the committed openapi.json (run npm run openapi when this fails)', async () => {
    const committed = await readFile(OPENAPI_FILE, 'utf8').catch(() => '(missing)');
    if (committed !== openApiJson()) {
      throw new Error('openapi.json is stale: run npm run openapi and commit it');
    }
  });

  it('is built the same on every call', () => {
    expect(`${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`).toBe(openApiJson());
  });

  it('is OpenAPI 3.1 whose references all resolve', () => {
    const document = openApiDocument();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.any(String) }));
    const unresolved = refsIn(document).filter(({ ref }) => resolvePointer(document, ref) === undefined);
    expect(unresolved).toEqual([]);
  });

  it('gives every operation a unique id, a tag, its path parameters and responses', () => {
    const document = openApiDocument();
    const ids: string[] = [];
    const tags = new Set((document.tags ?? []).map((tag) => tag.name));
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const method of METHODS) {
        const operation = (item as Record<string, any>)[method];
        if (!operation) continue;
        const where = `${method.toUpperCase()} ${path}`;
        ids.push(operation.operationId);
        expect({ where, tags: operation.tags.every((tag: string) => tags.has(tag)) }).toEqual({ where, tags: true });
        const declared = (operation.parameters ?? [])
          .map((p: any) => (p.$ref ? resolvePointer(document, p.$ref) : p))
          .filter((p: any) => p.in === 'path')
          .map((p: any) => p.name);
        expect({ where, declared: declared.sort() }).toEqual({ where, declared: [...pathParams].sort() });
        const statuses = Object.keys(operation.responses ?? {});
        expect({ where, hasSuccess: statuses.some((s) => /^[23]/.test(s)) }).toEqual({ where, hasSuccess: true });
        for (const status of statuses) expect({ where, status }).toEqual({ where, status: expect.stringMatching(/^[1-5][0-9][0-9]$/) });
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers every error as a Problem listing codes that are problem types for that status', () => {
    const document = openApiDocument();
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS) {
        const operation = (item as Record<string, any>)[method];
        for (const [status, response] of Object.entries<any>(operation?.responses ?? {})) {
          const where = `${method.toUpperCase()} ${path} ${status}`;
          const isProblem = 'application/problem+json' in (response.content ?? {});
          if (Number(status) >= 400 && path !== '/healthz') expect({ where, isProblem }).toEqual({ where, isProblem: true });
          if (!isProblem) continue;
          expect(response.content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
          for (const code of response['x-problem-codes']) {
            expect({ where, code, statuses: (problemTypes as Record<string, { statuses: readonly number[] }>)[code]?.statuses }).toEqual({
              where,
              code,
              statuses: expect.arrayContaining([Number(status)]),
            });
          }
        }
      }
    }
  });

  it('lists every problem type with its type URI, title, statuses and description', () => {
    const listed = (openApiDocument() as unknown as { 'x-problem-types': { type: string; code: string }[] })['x-problem-types'];
    expect(listed.map((p) => p.code).sort()).toEqual(Object.keys(problemTypes).sort());
    for (const p of listed) expect(p.type).toBe(problemTypeUri(p.code));
  });

  it('has schemas that all compile as JSON Schema 2020-12', () => {
    const { ajv, document } = contractAjv();
    const compiled: string[] = [];
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS) {
        const operation = (item as Record<string, any>)[method];
        if (!operation) continue;
        const bodies = Object.entries<any>(operation.requestBody?.content ?? {}).map(([type, media]) => [`request ${type}`, media.schema]);
        const answers = Object.entries<any>(operation.responses ?? {}).flatMap(([status, response]) =>
          Object.entries<any>(response.content ?? {}).map(([type, media]) => [`${status} ${type}`, media.schema]),
        );
        const params = (operation.parameters ?? []).filter((p: any) => p.schema).map((p: any) => [`parameter ${p.name}`, p.schema]);
        for (const [what, schema] of [...bodies, ...answers, ...params]) {
          expect(() => ajv.compile(schema)).not.toThrow();
          compiled.push(`${method} ${path} ${what}`);
        }
      }
    }
    expect(compiled.length).toBeGreaterThan(50);
  });
});

/**
 * What the suite takes from the API's committed contract, openapi.json at the repository
 * root: the problem types (`x-problem-types`), which `GET /problems/:code` documents, and
 * who may call each operation (`x-access`).
 */
import { readFileSync } from 'node:fs';

/** The document `GET /problems/:code` answers for a known code. */
export interface ProblemTypeDocument {
  type: string;
  code: string;
  title: string;
  /** The usual status: the first of `statuses`. */
  status: number;
  statuses: number[];
  description: string;
}

interface ContractProblemType {
  type: string;
  code: string;
  title: string;
  statuses: number[];
  description: string;
}

let cached: ReadonlyMap<string, ProblemTypeDocument> | undefined;
let document: Record<string, unknown> | undefined;

function contract(): Record<string, unknown> {
  document ??= JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return document;
}

/** Who may call an operation: anyone, any authenticated caller, or operators. */
export type Access = 'public' | 'user' | 'operator';

/**
 * Every operation's `x-access`, by `METHOD /path` with Koa-style parameters (`GET /orders/:id`).
 * @throws Error when an operation has none: the suite would not know whether it needs a token.
 */
export function routeAccess(): ReadonlyMap<string, Access> {
  const paths = (contract().paths ?? {}) as Record<string, Record<string, { 'x-access'?: Access }>>;
  const access = new Map<string, Access>();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const name = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      if (!operation['x-access']) throw new Error(`openapi.json: ${name} has no x-access`);
      access.set(name, operation['x-access']);
    }
  }
  return access;
}

/** Every problem type of the contract, by code, as `GET /problems/<code>` answers it. */
export function problemTypes(): ReadonlyMap<string, ProblemTypeDocument> {
  if (cached) return cached;
  const types = (contract()['x-problem-types'] ?? []) as ContractProblemType[];
  if (types.length === 0) throw new Error('openapi.json lists no x-problem-types');
  cached = new Map(
    types.map(({ type, code, title, statuses, description }) => [code, { type, code, title, status: statuses[0]!, statuses, description }]),
  );
  return cached;
}

/**
 * What the suite takes from the API's committed contract, openapi.json at the repository
 * root: the problem types (`x-problem-types`), which `GET /problems/:code` documents.
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

/** Every problem type of the contract, by code, as `GET /problems/<code>` answers it. */
export function problemTypes(): ReadonlyMap<string, ProblemTypeDocument> {
  if (cached) return cached;
  const document = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8')) as { 'x-problem-types'?: ContractProblemType[] };
  const types = document['x-problem-types'] ?? [];
  if (types.length === 0) throw new Error('openapi.json lists no x-problem-types');
  cached = new Map(
    types.map(({ type, code, title, statuses, description }) => [code, { type, code, title, status: statuses[0]!, statuses, description }]),
  );
  return cached;
}

/**
 * Exact answers. Most families only know that a request is refused (any 4xx problem,
 * see `refusalProblems` in http.ts); some know the very answer, and say it in the
 * request's `expect`: a list query with one bad parameter is 400 `ValidationFailed` with
 * an error at exactly the bad parameters' paths, and a valid one a 200 page (for `GET
 * /products/popular`, its window and at most its limit of products); `GET
 * /problems/<code>` is 404 `NotFound` for an unknown code and 200 with the contract's
 * document of a known one; a corrupted bearer token is 401 `InvalidToken` with the
 * `WWW-Authenticate` challenge (tokens.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Answer } from './http.ts';
import { popularProblems } from './popular.ts';

/** The answer a request must get: a problem with this status and code, or a 200 with this JSON body. */
export type Expected =
  | {
      status: number;
      code: string;
      /** For `ValidationFailed`: the paths of `errors`, each once, sorted. */
      errorPaths?: readonly string[];
      /** A header the answer must have, matching `pattern` (`name` in lower case). */
      header?: { name: string; pattern: RegExp };
    }
  | { status: 200; body: unknown }
  /** A page of the list at `path` (as the list writes it in `next`) of at most `limit` items. */
  | { status: 200; page: { path: string; limit: number } }
  /** The popular products over `days` days, at most `limit` of them (popular.ts). */
  | { status: 200; popular: { days: number; limit: number } };

type Acceptance = Exclude<Expected, { code: string }>;

/** Whether `expected` is an acceptance (a 200 with a body or a page) rather than a refusal. */
export const isAcceptance = (expected: Expected | undefined): expected is Acceptance => expected !== undefined && !('code' in expected);

/** Short text of `expected`, for a request's description. */
export function describeExpected(expected: Expected): string {
  if ('page' in expected) return `${expected.status} a page of ${expected.page.path} (limit ${expected.page.limit})`;
  if ('popular' in expected) return `${expected.status} the popular products (days ${expected.popular.days}, limit ${expected.popular.limit})`;
  if ('body' in expected) return `${expected.status} ${JSON.stringify(expected.body).slice(0, 80)}`;
  const header = expected.header ? ` with ${expected.header.name} ${String(expected.header.pattern)}` : '';
  return `${expected.status} ${expected.code}${expected.errorPaths ? ` at ${JSON.stringify(expected.errorPaths)}` : ''}${header}`;
}

/** How `answer` differs from `expected`; empty when it is that answer. */
export function expectedProblems(answer: Answer, expected: Expected): string[] {
  const problems: string[] = [];
  if (answer.status !== expected.status) problems.push(`status ${answer.status}, expected ${expected.status}`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return [...problems, 'body is not JSON'];
  }
  if (isAcceptance(expected)) {
    if (!/^application\/json\s*(;|$)/i.test(answer.headers['content-type'] ?? '')) {
      problems.push(`content-type ${JSON.stringify(answer.headers['content-type'] ?? null)} is not application/json`);
    }
    if (!answer.headers['x-request-id']) problems.push('no X-Request-Id');
    if ('body' in expected && !isDeepStrictEqual(body, expected.body)) problems.push(`body is not ${JSON.stringify(expected.body).slice(0, 200)}`);
    if ('page' in expected) problems.push(...pageProblems(body, expected.page));
    if ('popular' in expected) problems.push(...popularProblems(body, expected.popular));
    return problems;
  }
  const { code, errors } = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; errors?: unknown };
  if (code !== expected.code) problems.push(`code ${JSON.stringify(code)}, expected ${expected.code}`);
  if (expected.header && !expected.header.pattern.test(answer.headers[expected.header.name] ?? '')) {
    problems.push(`${expected.header.name} ${JSON.stringify(answer.headers[expected.header.name] ?? null)} does not match ${String(expected.header.pattern)}`);
  }
  if (expected.errorPaths) {
    const items = Array.isArray(errors) ? (errors as { path?: unknown }[]) : [];
    const paths = [...new Set(items.map((item) => item?.path))].sort();
    if (!isDeepStrictEqual(paths, [...expected.errorPaths])) {
      problems.push(`errors at ${JSON.stringify(paths)}, expected at ${JSON.stringify(expected.errorPaths)}`);
    }
  }
  return problems;
}

/** How `body` is not a page `{ items, next }` of at most `limit` items whose `next` is null or the list's next link. */
function pageProblems(body: unknown, { path, limit }: { path: string; limit: number }): string[] {
  const { items, next, ...rest } = (typeof body === 'object' && body !== null ? body : {}) as { items?: unknown; next?: unknown };
  const problems: string[] = [];
  if (!Array.isArray(items) || items.length > limit) problems.push(`items is not an array of at most ${limit}`);
  const link = `${path}?limit=${limit}&cursor=`;
  if (next !== null && !(typeof next === 'string' && next.startsWith(link) && /^[A-Za-z0-9_-]+$/.test(next.slice(link.length)))) {
    problems.push(`next ${JSON.stringify(next)} is neither null nor ${link}<cursor>`);
  }
  if (Object.keys(rest).length > 0) problems.push(`members beyond items and next: ${Object.keys(rest).join(',')}`);
  return problems;
}

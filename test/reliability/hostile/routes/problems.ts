/**
 * Generator of GET /problems/:code (api/problems/routes.ts), the documentation of the
 * problem types, fuzzed through its path: any code string is answered, never with a 5xx.
 * A code of the contract (openapi.json `x-problem-types`), however it is percent-encoded
 * and whatever the case of `/problems` or a trailing slash, is 200 with exactly its
 * document; any other code (a near miss of a known one, a prototype name, unicode, a
 * long one) and any other path under `/problems` is 404 `NotFound`.
 */
import fc from 'fast-check';
import { problemTypes } from '../contract.ts';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import { OVER_HEADER_LIMIT, type Parts } from '../families.ts';
import { decodeURIComponentSafe } from '../paths.ts';
import { nastyString, pct } from '../values.ts';

/** `text` with every character percent-encoded (hex in `upper` or lower case). */
const encodeAll = (text: string, upper: boolean) => [...Buffer.from(text, 'utf8')].map((b) => `%${upper ? b.toString(16).toUpperCase() : b.toString(16)}`).join('');

/** Ways to miss a known code by a little. */
const NEAR_MISSES: Record<string, (code: string) => string> = {
  'lower case': (c) => c.toLowerCase(),
  'upper case': (c) => c.toUpperCase(),
  'first letter lower': (c) => c[0]!.toLowerCase() + c.slice(1),
  'leading space': (c) => ` ${c}`,
  'trailing space': (c) => `${c} `,
  'trailing dot': (c) => `${c}.`,
  '.json suffix': (c) => `${c}.json`,
  plural: (c) => `${c}s`,
  'zero-width space': (c) => `${c}\u200b`,
  'RTL override': (c) => `\u202e${c}`,
  NUL: (c) => `${c}\u0000`,
  'fullwidth letter': (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0) + c.slice(1),
  'type URI': (c) => `/problems/${c}`,
  'with a query': (c) => `${c}?x=1`,
};

/** Code segments: known codes spelled in several ways, and codes that are not known. */
function codeSegments(codes: string[]): fc.Arbitrary<{ segment: string; how: string }> {
  const known = fc.constantFrom(...codes);
  return fc.oneof(
    { weight: 3, arbitrary: known.map((code) => ({ segment: code, how: 'known code' })) },
    fc.tuple(known, fc.nat(), fc.boolean()).map(([code, i, upper]) => {
      const at = i % code.length;
      return { segment: code.slice(0, at) + encodeAll(code[at]!, upper) + code.slice(at + 1), how: 'known code, one letter percent-encoded' };
    }),
    fc.tuple(known, fc.boolean()).map(([code, upper]) => ({ segment: encodeAll(code, upper), how: 'known code, all percent-encoded' })),
    { weight: 3, arbitrary: fc.tuple(known, fc.constantFrom(...Object.keys(NEAR_MISSES))).map(([code, how]) => ({ segment: pct(NEAR_MISSES[how]!(code)), how: `near miss (${how})` })) },
    fc
      .constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'length', '0', 'undefined', 'null')
      .map((segment) => ({ segment, how: 'prototype name' })),
    { weight: 2, arbitrary: nastyString.map((s) => ({ segment: pct(s), how: 'unicode code' })) },
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,63}$/).map((segment) => ({ segment, how: 'random code' })),
    fc.integer({ min: 65, max: 4_000 }).map((n) => ({ segment: 'A'.repeat(n), how: `code of ${n} letters` })),
    fc.constantFrom('%', '%ZZ', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '.', '..', '%2E%2E', '%2F', '...', '~').map((segment) => ({ segment, how: `code ${segment}` })),
  );
}

/** Paths under /problems that no route has: no code, an empty one, extra segments. */
const NO_ROUTE = [
  '/problems', '/problems/', '/problems//NotFound', '//problems/NotFound', '/problems/NotFound/x', '/problems/NotFound/.',
  '/problems/NotFound/..', '/problems/NotFound//', '/problem/NotFound', '/problems.json', '/problems%2FNotFound', '/problems/x/NotFound',
];

/** The generator of GET /problems/:code. */
export function problemEndpoints(kit: EndpointKit): { getProblem: EndpointGenerator } {
  const documents = problemTypes();
  const codes = [...documents.keys()];
  const byCode: Parts = { method: 'GET', target: '', headers: [], defects: [] };
  const codePaths = fc
    .tuple(codeSegments(codes), fc.constantFrom('/problems', '/problems', '/PROBLEMS', '/Problems'), fc.constantFrom('', '', '/'))
    .map(([{ segment, how }, prefix, trailing]): Parts => {
      const target = `${prefix}/${segment}${trailing}`;
      const document = documents.get(decodeURIComponentSafe(segment));
      return document
        ? { ...byCode, target, expect: { status: 200, body: document } }
        : { ...byCode, target, defects: [how], expect: { status: 404, code: 'NotFound' } };
    });
  const noRoute = fc.constantFrom(...NO_ROUTE).map((target): Parts => ({ ...byCode, target, defects: [`path ${target}`], expect: { status: 404, code: 'NotFound' } }));
  const pastLimit = fc.integer(OVER_HEADER_LIMIT).map((n): Parts => ({ ...byCode, target: `/problems/${'A'.repeat(n)}`, defects: [`code of ${n} letters (past the header limit)`] }));
  const valid = fc.constantFrom(...codes).map((code): Parts => ({ ...byCode, target: `/problems/${code}` }));
  return { getProblem: kit.make('GET /problems/:code', [[codePaths, 8], noRoute, pastLimit], valid, kit.others('GET')) };
}

/**
 * Bearer tokens in the hostile suite. Every request to a route that needs a token carries
 * a valid one (of the natural actor: the user of a `/users/:id/...` path, else the
 * fixtures' user), so it still reaches validation and is refused for its own defect; the
 * token family corrupts that token instead, on an otherwise valid request, and expects
 * exactly 401 `InvalidToken` with the bearer challenge:
 * random bytes, a truncated token, a bit flipped in the signature or in the claims, a
 * corrupted header before the valid one (Node keeps the first `Authorization`), another
 * scheme or separator (`Bearer:`, a tab, none), spaces inside the token, two tokens.
 *
 * Not corruptions, and so not generated as such: a lowercase `bearer` and several spaces
 * after it (RFC 7235 makes the scheme case-insensitive, RFC 6750 allows `1*SP`).
 */
import fc from 'fast-check';
import type { Expected } from './expected.ts';
import type { Family, Parts } from './families.ts';
import { headerBytes, nastyString } from './values.ts';

/** The answer to every corrupted token. */
export const INVALID_TOKEN: Expected = { status: 401, code: 'InvalidToken', header: { name: 'www-authenticate', pattern: /^Bearer (.+, )?error="invalid_token"/ } };

const b64u = (bytes: Buffer) => bytes.toString('base64url');

/** `token` with bit `bit` of byte `at` (both modulo the part's size) of part `part` (0 header, 1 claims, 2 signature) flipped. */
export function flipBit(token: string, part: 0 | 1 | 2, at: number, bit: number): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[at % bytes.length]! ^= 1 << (bit % 8);
  parts[part] = b64u(bytes);
  return parts.join('.');
}

/** Corrupted `Authorization` header values of `token`, each with what is wrong with it. */
function corruptions(token: string): fc.Arbitrary<{ headers: [string, string][]; defect: string }> {
  const one = (value: string, defect: string) => ({ headers: [['Authorization', value]] as [string, string][], defect });
  return fc.oneof(
    // Random bytes after the scheme, or as the whole value (never empty: that is "no token").
    nastyString.map((s) => one(`Bearer ${headerBytes(s).trim() || '\u00ff'}`, 'token of random bytes')),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => one(`Bearer ${b64u(Buffer.from(b))}`, `token of ${b.length} random base64url bytes`)),
    nastyString.map((s) => one(`x${headerBytes(s)}`, 'Authorization of random bytes')),
    // Truncated anywhere.
    fc.integer({ min: 1, max: token.length - 1 }).map((n) => one(`Bearer ${token.slice(0, n)}`, `token truncated to ${n} of ${token.length} characters`)),
    // One bit flipped: the signature no longer matches, or is no signature at all.
    fc.tuple(fc.constantFrom(0 as const, 1 as const, 2 as const), fc.nat(), fc.nat({ max: 7 })).map(([part, at, bit]) =>
      one(`Bearer ${flipBit(token, part, at, bit)}`, `bit ${bit} of byte ${at} flipped in ${['the header', 'the claims', 'the signature'][part]}`),
    ),
    // Duplicated headers, either one corrupted or both valid: two Authorization headers are refused.
    fc.constantFrom('Bearer', `Bearer ${token}x`, `Bearer ${token.split('.').slice(0, 2).join('.')}.`, 'Basic Zm9vOmJhcg==', `Bearer ${token}`).chain((other) =>
      fc.boolean().map((otherFirst) => ({
        headers: (otherFirst ? [['Authorization', other], ['Authorization', `Bearer ${token}`]] : [['Authorization', `Bearer ${token}`], ['Authorization', other]]) as [string, string][],
        defect: `duplicated Authorization, the ${otherFirst ? 'first' : 'second'} ${JSON.stringify(other.slice(0, 20))}`,
      })),
    ),
    // Another scheme, or a separator that is not a space.
    fc.constantFrom('Bearer:', 'Bearer=', 'Bearer\t', 'Bearer,', 'Bearer', 'Beare ', 'Bearerr ', 'Token ', 'JWT ', 'Basic ', 'Digest ', 'OAuth ', 'Bearer \u00a0').map((scheme) =>
      one(`${scheme}${token}`, `scheme ${JSON.stringify(scheme)}`),
    ),
    // Spaces or quotes inside the token, or two tokens.
    fc.integer({ min: 1, max: token.length - 1 }).map((n) => one(`Bearer ${token.slice(0, n)} ${token.slice(n)}`, `a space inside the token at ${n}`)),
    fc.constant(one(`Bearer "${token}"`, 'quoted token')),
    fc.constant(one(`Bearer ${token}, Bearer ${token}`, 'two tokens in one header')),
    fc.constant(one(`Bearer ${token} ${token}`, 'two tokens separated by a space')),
  );
}

/** The token family of a route: its valid request with the token corrupted (401 `InvalidToken`). */
export function tokenFamily(validParts: fc.Arbitrary<Parts>, tokenFor: (target: string) => string): Family {
  return validParts.chain((parts) =>
    corruptions(tokenFor(parts.target)).map(({ headers, defect }) => ({
      ...parts,
      headers: [...headers, ...parts.headers],
      defects: [defect],
      expect: INVALID_TOKEN,
    })),
  );
}

/** Whether `value` (an `Authorization` value as Koa sees it) carries one of `valid`, as RFC 6750 reads it: `Bearer`, any case, `1*SP`, the token. */
export function carriesValidToken(value: string | undefined, valid: ReadonlySet<string>): boolean {
  const match = /^bearer +(\S+)$/i.exec(value ?? '');
  return match !== null && valid.has(match[1]!);
}

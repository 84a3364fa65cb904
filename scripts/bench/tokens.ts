/**
 * The bench's identity: the API it starts runs the development issuer (allowed in
 * production explicitly, with a key pair of the bench's own), and every planned order
 * carries a bearer token of its user, minted once per user before the load, so the
 * measured path includes what a real request pays: the token's verification and the
 * user lookup (api/auth/verifier.ts).
 */
import path from 'node:path';
import { devTokenClaims, loadDevKeys, signDevToken } from '../../api/auth/dev-issuer.ts';
import type { AuthSettings } from '../../config/index.ts';
import type { OrderMixFixture } from './order-mix.ts';

/** Where the bench keeps its development key pair (git-ignored, like every `.auth/` folder). */
export const BENCH_KEYS_DIR = path.join(import.meta.dirname, '..', '..', '.auth', 'bench');

/** Environment of the bench's API: the development issuer on, under NODE_ENV=production, with the bench's keys. */
export function benchAuthEnv(): Record<string, string> {
  return { AUTH_DEV_ISSUER: 'true', AUTH_DEV_ISSUER_IN_PRODUCTION: 'true', AUTH_DEV_KEYS_DIR: BENCH_KEYS_DIR };
}

/**
 * `fixture` with a bearer token for each of its users (`tokens`), valid for `ttl` (a
 * span jose reads, default 12 h: longer than any run), signed with the bench's key pair
 * for `auth`'s audience and roles claim.
 */
export async function withUserTokens(fixture: OrderMixFixture, auth: AuthSettings, ttl = '12h'): Promise<OrderMixFixture> {
  return { ...fixture, tokens: await mintUserTokens([...fixture.richUserIds, ...fixture.poorUserIds], auth, ttl) };
}

/**
 * A bearer token (compact JWS, ES256) for each of `userIds`, valid for `ttl` (default 12 h),
 * signed with the bench's key pair (made on first use) for `auth`'s audience and roles
 * claim; keyed by user id. Signing takes some 0.1 ms per user.
 */
export async function mintUserTokens(userIds: readonly number[], auth: AuthSettings, ttl = '12h'): Promise<Map<number, string>> {
  const keys = await loadDevKeys(BENCH_KEYS_DIR);
  const tokens = new Map<number, string>();
  for (const userId of userIds) {
    tokens.set(userId, await signDevToken(keys, devTokenClaims(auth, { userId }), { ttl, audience: auth.audience }));
  }
  return tokens;
}

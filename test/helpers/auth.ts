/**
 * Bearer tokens for tests, minted by the development issuer (api/auth/dev-issuer.ts, the
 * code behind `npm run token`) with the test key folder (`.auth/test`, AUTH_DEV_KEYS_DIR
 * of {@link testConfig}), which every API a test starts trusts.
 */
import { devTokenClaims, loadDevKeys, signDevToken, type DevKeys, type DevTokenOptions } from '../../api/auth/dev-issuer.ts';
import { testConfig } from './db.ts';

let keys: Promise<DevKeys> | undefined;

/** The test issuer's key pair (created on first use, shared by every suite). */
export function testKeys(): Promise<DevKeys> {
  const devIssuer = testConfig().auth.devIssuer;
  if (!devIssuer) throw new Error('The test config has no development issuer');
  keys ??= loadDevKeys(devIssuer.keysDir);
  return keys;
}

/** A token of user `userId` (with the operator role too when `options.operator`); `ttl` as jose reads it, default 1h. */
export async function tokenFor(userId: number, options: { operator?: boolean; ttl?: string } = {}): Promise<string> {
  const claims = devTokenClaims(testConfig().auth, { userId, operator: options.operator });
  return signDevToken(await testKeys(), claims, { ttl: options.ttl });
}

/** An operator token (subject `operator`). */
export async function operatorToken(): Promise<string> {
  return signDevToken(await testKeys(), devTokenClaims(testConfig().auth, { operator: true }));
}

/**
 * A token of exactly `claims` (over the issuer, audience, `iat` and `exp` defaults, which a
 * claim given replaces: `{ sub: '1', exp: <past> }` is expired), signed by the test issuer,
 * for tests of odd tokens.
 */
export async function mintToken(claims: Record<string, unknown>, options: DevTokenOptions = {}): Promise<string> {
  return signDevToken(await testKeys(), claims, options);
}

/** The `Authorization` header of `token`. */
export function authHeader(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

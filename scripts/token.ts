/**
 * `npm run token -- --user <id> [--operator] [--ttl 1h]`: prints a bearer token signed by
 * the development issuer (api/auth/dev-issuer.ts; its key pair in AUTH_DEV_KEYS_DIR,
 * created on first use), which an API running with the development issuer on trusts.
 * `--operator` adds the operator role; alone (no `--user`) it gives an operator token
 * whose subject is `operator`. `--ttl`: a lifetime such as `30s`, `15m`, `1h`, `7d`
 * (default 1h, at most 30 days). Exits 2 with a message for bad arguments, and refuses
 * when the development issuer is off (a real identity provider issues the tokens then).
 *
 * Usage: TOKEN=$(npm run -s token -- --user 1); curl -H "Authorization: Bearer $TOKEN" ...
 */
import { parseArgs } from 'node:util';
import { devTokenClaims, loadDevKeys, signDevToken } from '../api/auth/dev-issuer.ts';
import { loadConfig, type AuthSettings } from '../config/index.ts';

/** What the command line asks for. */
export interface TokenRequest {
  userId: number | undefined;
  operator: boolean;
  /** Lifetime in seconds. */
  ttlSeconds: number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_TTL_SECONDS = 30 * 86_400;

/** Parses the arguments. @throws Error with a message for the user on bad arguments. */
export function parseTokenArgs(args: string[]): TokenRequest {
  const { values } = parseArgs({
    args,
    options: { user: { type: 'string' }, operator: { type: 'boolean', default: false }, ttl: { type: 'string', default: '1h' } },
    strict: true,
    allowPositionals: false,
  });
  let userId: number | undefined;
  if (values.user !== undefined) {
    if (!/^[1-9][0-9]{0,9}$/.test(values.user) || Number(values.user) > 2 ** 31 - 1) throw new Error(`--user must be a positive user id, not ${JSON.stringify(values.user)}`);
    userId = Number(values.user);
  }
  if (userId === undefined && !values.operator) throw new Error('give --user <id>, --operator, or both');
  const ttl = /^([1-9][0-9]{0,6})([smhd])$/.exec(values.ttl);
  const ttlSeconds = ttl?.[1] && ttl[2] ? Number(ttl[1]) * (UNIT_SECONDS[ttl[2]] ?? 0) : 0;
  if (ttlSeconds <= 0 || ttlSeconds > MAX_TTL_SECONDS) throw new Error(`--ttl must be like 30s, 15m, 1h or 7d (at most 30d), not ${JSON.stringify(values.ttl)}`);
  return { userId, operator: values.operator, ttlSeconds };
}

/** Mints the token `request` asks for with the development issuer of `auth`. @throws Error when the development issuer is off. */
export async function mintDevToken(auth: AuthSettings, request: TokenRequest): Promise<string> {
  if (!auth.devIssuer) throw new Error('The development issuer is off (AUTH_DEV_ISSUER=false or NODE_ENV=production): get tokens from your identity provider');
  const keys = await loadDevKeys(auth.devIssuer.keysDir);
  const claims = devTokenClaims(auth, { userId: request.userId, operator: request.operator });
  return signDevToken(keys, claims, { ttl: `${request.ttlSeconds}s`, audience: auth.audience });
}

if (import.meta.main) {
  try {
    const request = parseTokenArgs(process.argv.slice(2));
    process.stdout.write(`${await mintDevToken(loadConfig().auth, request)}\n`);
  } catch (err) {
    process.stderr.write(`token: ${(err as Error).message}\nusage: npm run token -- --user <id> [--operator] [--ttl 1h]\n`);
    process.exitCode = 2;
  }
}

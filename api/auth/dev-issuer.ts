/**
 * The built-in development token issuer: one ES256 key pair kept in a git-ignored folder
 * (AUTH_DEV_KEYS_DIR, `.auth/` by default), created on first use and reused after, and
 * the tokens it signs. `npm run token`, the tests and the API (which trusts its public
 * key and serves it at `GET /.well-known/jwks.json`) all go through this module, so a
 * token minted by one is accepted by the others. Never for production: anyone who can
 * read the folder can mint any token.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, type AuthSettings } from '../../config/index.ts';

/** The signing algorithm of the development issuer. */
export const DEV_ALGORITHM = 'ES256';

/** The file of the key pair (a private JWK, which holds the public key too) in the keys folder. */
export const DEV_KEY_FILE = 'dev-issuer-key.json';

/** The development issuer's key pair: the private JWK (with `kid`) and its public half. */
export interface DevKeys {
  /** Private JWK (`kty: EC`, `crv: P-256`, `d`, `kid`, `alg: ES256`). A secret. */
  privateJwk: JWK;
  /** The public JWK (no `d`), as the JWKS lists it. */
  publicJwk: JWK;
}

/**
 * The key pair in `keysDir` (relative to the working directory), created there on first
 * call. Creation is atomic: the new key is written to a temporary file (mode 0600) and
 * hard-linked to its final name, which fails if another process got there first; then
 * every process reads the one file that won, so two processes starting at once agree.
 *
 * @throws Error when the folder cannot be created or the file is not a usable key.
 */
export async function loadDevKeys(keysDir: string): Promise<DevKeys> {
  const file = path.resolve(keysDir, DEV_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing) return existing;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(DEV_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const privateJwk: JWK = { ...jwk, alg: DEV_ALGORITHM, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(temporary, { force: true });
  }
  const created = await readKeyFile(file);
  if (!created) throw new Error(`The development issuer key ${file} vanished while it was created`);
  return created;
}

/** The keys in `file`, or undefined when there is no such file. */
async function readKeyFile(file: string): Promise<DevKeys | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const privateJwk = JSON.parse(text) as JWK;
  if (privateJwk.kty !== 'EC' || privateJwk.crv !== 'P-256' || !privateJwk.d || !privateJwk.kid) {
    throw new Error(`${file} is not an ES256 private JWK with a kid; delete it to have a new key made`);
  }
  const { d: _d, ...publicJwk } = privateJwk;
  return { privateJwk, publicJwk };
}

/** What {@link signDevToken} puts in a token beyond its claims. */
export interface DevTokenOptions {
  /** Lifetime from now, as jose reads a time span (`'1h'`, `'15m'`, `'30s'`); default one hour. */
  ttl?: string;
  /** `aud`; default AUTH_AUDIENCE's development default. */
  audience?: string;
  /** `iss`; default the development issuer. */
  issuer?: string;
}

/**
 * Signs a token with the development key: ES256, header `kid`, `iss` and `aud` of the
 * development issuer (or `options`), `iat` now, `exp` now + ttl, and `claims` (e.g.
 * `{ sub: '1', roles: ['operator'] }`; a claim given overrides the defaults above).
 *
 * @throws Error (from jose) for a ttl it cannot read.
 */
export async function signDevToken(keys: DevKeys, claims: Record<string, unknown>, options: DevTokenOptions = {}): Promise<string> {
  const key = await importJWK(keys.privateJwk, DEV_ALGORITHM);
  const jwt = new SignJWT({ iss: options.issuer ?? DEV_ISSUER, aud: options.audience ?? DEV_AUDIENCE, ...claims }).setProtectedHeader({
    alg: DEV_ALGORITHM,
    kid: keys.privateJwk.kid,
    typ: 'JWT',
  });
  if (!('iat' in claims)) jwt.setIssuedAt();
  if (!('exp' in claims)) jwt.setExpirationTime(options.ttl ?? '1h');
  return jwt.sign(key);
}

/** Who a development token is for: a user id, an operator, or both (an operator acting with a user's id as subject). */
export interface DevTokenSubject {
  userId?: number;
  operator?: boolean;
}

/**
 * The claims of a development token under `settings` (its roles claim and operator role):
 * `sub` the user id (or `operator` for an operator without one), and the operator role
 * when asked for.
 * @throws Error when neither a user nor the operator role is given.
 */
export function devTokenClaims(settings: Pick<AuthSettings, 'rolesClaim' | 'operatorRole'>, who: DevTokenSubject): Record<string, unknown> {
  if (who.userId === undefined && !who.operator) throw new Error('A development token needs a user id, the operator role, or both');
  return {
    sub: who.userId === undefined ? 'operator' : String(who.userId),
    ...(who.operator ? { [settings.rolesClaim]: [settings.operatorRole] } : {}),
  };
}

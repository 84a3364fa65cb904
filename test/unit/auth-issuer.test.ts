/**
 * The development issuer (its key pair made once and reused, also by processes racing to
 * make it), `npm run token` (spawned; its token verifies against the issuer's key), and
 * the auth settings the API refuses to start with.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { DEV_KEY_FILE, loadDevKeys, signDevToken } from '../../api/auth/dev-issuer.ts';
import { createTokenVerifier, hasRole } from '../../api/auth/verifier.ts';
import type { Orm } from '../../db/orm.ts';
import { assertApiAuthSettings, DEV_AUDIENCE, DEV_ISSUER, loadConfig } from '../../config/index.ts';
import { parseTokenArgs } from '../../scripts/token.ts';

/** What production needs besides auth. */
const PRODUCTION = { IDEMPOTENCY_SECRET: 'x'.repeat(32) };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sagas-auth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the development issuer', () => {
  it('makes its key pair once, private key file 0600, and reuses it', async () => {
    const keysDir = path.join(dir, 'once');
    const first = await loadDevKeys(keysDir);
    const again = await loadDevKeys(keysDir);
    expect(again.privateJwk).toEqual(first.privateJwk);
    expect(first.publicJwk.d).toBeUndefined();
    expect((await stat(path.join(keysDir, DEV_KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('gives processes racing to make the key the same one', async () => {
    const keysDir = path.join(dir, 'race');
    const all = await Promise.all(Array.from({ length: 8 }, () => loadDevKeys(keysDir)));
    expect(new Set(all.map((k) => k.privateJwk.kid)).size).toBe(1);
  });
});

describe('npm run token', () => {
  const run = promisify(execFile);

  it('prints a token of the user that the issuer\'s key verifies', async () => {
    const keysDir = path.join(dir, 'cli');
    const env = { ...process.env, NODE_ENV: 'development', AUTH_DEV_KEYS_DIR: keysDir, AUTH_DEV_ISSUER: '' };
    const { stdout } = await run(process.execPath, ['scripts/token.ts', '--user', '7', '--operator', '--ttl', '10m'], { env });
    const keys = await loadDevKeys(keysDir);
    const { payload } = await jwtVerify(stdout.trim(), createLocalJWKSet({ keys: [keys.publicJwk] }), { issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    expect(payload.sub).toBe('7');
    expect(hasRole(payload.roles, 'operator')).toBe(true);
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(JSON.parse(await readFile(path.join(keysDir, DEV_KEY_FILE), 'utf8')).kid).toBe(keys.privateJwk.kid);
  });

  it('exits 2 with a message for bad arguments', async () => {
    await expect(run(process.execPath, ['scripts/token.ts', '--user', 'abc'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--user must be a positive user id') });
  });

  it('reads its arguments', () => {
    expect(parseTokenArgs(['--operator'])).toEqual({ userId: undefined, operator: true, ttlSeconds: 3600 });
    expect(parseTokenArgs(['--user', '3', '--ttl', '2d'])).toEqual({ userId: 3, operator: false, ttlSeconds: 172_800 });
    expect(() => parseTokenArgs([])).toThrow('give --user <id>, --operator, or both');
    expect(() => parseTokenArgs(['--user', '1', '--ttl', '31d'])).toThrow('--ttl');
    expect(() => parseTokenArgs(['--user', '0'])).toThrow('--user');
    expect(() => parseTokenArgs(['--bogus'])).toThrow();
  });
});

describe('auth settings', () => {
  it('turn the development issuer on in development and test, off in production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).auth.devIssuer).toEqual({ keysDir: '.auth' });
    expect(loadConfig({ NODE_ENV: 'test' }).auth.devIssuer).toEqual({ keysDir: '.auth/test' });
    expect(loadConfig({ ...PRODUCTION, NODE_ENV: 'production' }).auth.devIssuer).toBeUndefined();
  });

  it('refuse the development issuer in production unless told explicitly', () => {
    expect(() => assertApiAuthSettings(loadConfig({ ...PRODUCTION, NODE_ENV: 'production', AUTH_DEV_ISSUER: 'true' }))).toThrow(/AUTH_DEV_ISSUER: the development token issuer is on with NODE_ENV=production/);
    expect(() => assertApiAuthSettings(loadConfig({ ...PRODUCTION, NODE_ENV: 'production', AUTH_DEV_ISSUER: 'true', AUTH_DEV_ISSUER_IN_PRODUCTION: 'true' }))).not.toThrow();
  });

  it('refuse no development issuer without the identity provider\'s settings, naming them', () => {
    expect(() => assertApiAuthSettings(loadConfig({ ...PRODUCTION, NODE_ENV: 'production', AUTH_ISSUER: 'https://idp.example' }))).toThrow(/AUTH_JWKS_URL: required[\s\S]*AUTH_AUDIENCE: required/);
    const ok = loadConfig({ ...PRODUCTION, NODE_ENV: 'production', AUTH_JWKS_URL: 'https://idp.example/jwks', AUTH_ISSUER: 'https://idp.example', AUTH_AUDIENCE: 'sagas' });
    expect(() => assertApiAuthSettings(ok)).not.toThrow();
    expect(ok.auth).toMatchObject({ jwksUrl: 'https://idp.example/jwks', issuer: 'https://idp.example', audience: 'sagas', rolesClaim: 'roles', operatorRole: 'operator', clockToleranceSeconds: 5 });
  });

  it('read roles as an array or a space-separated string', () => {
    expect(hasRole('reader operator', 'operator')).toBe(true);
    expect(hasRole(['operator'], 'operator')).toBe(true);
    expect(hasRole('operators', 'operator')).toBe(false);
    expect(hasRole(undefined, 'operator')).toBe(false);
  });
});

describe('a verifier on a remote JWKS', () => {
  it('answers 503 IdentityProviderUnavailable with Retry-After when the JWKS cannot be fetched, not 500 or 401', async () => {
    const keys = await loadDevKeys(path.join(dir, 'remote'));
    const token = await signDevToken(keys, { sub: '1' }, { issuer: 'https://issuer.example', audience: 'api' });
    const settings = { ...loadConfig({ NODE_ENV: 'test' }).auth, devIssuer: undefined, jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: 'https://issuer.example', audience: 'api' };
    const verify = createTokenVerifier(settings, {} as Orm);
    const refused = await verify(token).then(() => undefined, (err: unknown) => err);
    expect(refused).toMatchObject({ status: 503, code: 'IdentityProviderUnavailable', headers: { 'Retry-After': '5' } });
  });
});

/**
 * Bearer token verification and the route guards, against the API on the test database
 * (no Temporal: every request here is decided before a saga would start): valid tokens,
 * every kind of refused token (401 `InvalidToken` with the bearer challenge, nothing
 * changed), the JWKS of the development issuer, and the ownership rules on a few routes.
 * The route-by-route matrix is test/integration/auth-matrix.test.ts.
 */
import { describe, it, expect, beforeAll, beforeEach, afterAll } from '@jest/globals';
import { request } from 'node:http';
import { generateKeyPair, SignJWT, base64url } from 'jose';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { authHeader, mintToken, operatorToken, testKeys, tokenFor } from '../helpers/auth.ts';
import { balanceOf, createUser } from '../helpers/db.ts';
import { expectNoContractViolations } from '../helpers/openapi-check.ts';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../config/index.ts';

let api: TestApi;
let alice: number;
let bob: number;
const refusedCalls: string[] = [];

beforeAll(async () => {
  api = await startTestApi({ refusedCalls });
  alice = await createUser(api.orm, 500);
  bob = await createUser(api.orm, 700);
});

afterAll(async () => {
  await api?.close();
  expectNoContractViolations(api?.contract);
});

async function send(method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(new URL(path, api.url), {
    method,
    headers: { ...(token === undefined ? {} : authHeader(token)), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const now = () => Math.floor(Date.now() / 1000);

describe('bearer tokens', () => {
  it('accept a valid user token and answer that user\'s balance', async () => {
    const res = await send('GET', `/users/${alice}/points`, await tokenFor(alice));
    expect(res.status).toBe(200);
    expect(res.body.balancePoints).toBe(500);
  });

  const refused: [string, () => Promise<string>, string][] = [
    ['expired', () => mintToken({ sub: String(alice), iat: now() - 3600, exp: now() - 60 }), 'token expired'],
    ['not yet valid (nbf in the future)', () => mintToken({ sub: String(alice), nbf: now() + 600 }), 'token not yet valid'],
    ['of another issuer', () => mintToken({ sub: String(alice) }, { issuer: 'https://evil.example' }), 'unexpected issuer'],
    ['for another audience', () => mintToken({ sub: String(alice) }, { audience: 'another-api' }), 'unexpected audience'],
    ['whose subject is not a user', () => mintToken({ sub: '2147483000' }), 'subject is not a user'],
    ['whose subject is not a number', () => mintToken({ sub: 'alice' }), 'subject is not a user'],
    ['signed by an unknown key (kid)', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      return new SignJWT({ sub: String(alice), iss: DEV_ISSUER, aud: DEV_AUDIENCE }).setProtectedHeader({ alg: 'ES256', kid: 'someone-else' }).setExpirationTime('1h').sign(privateKey);
    }, 'no key matches the token'],
    ['with alg none', async () => {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
      const payload = base64url.encode(JSON.stringify({ sub: String(alice), iss: DEV_ISSUER, aud: DEV_AUDIENCE, exp: now() + 600 }));
      return `${header}.${payload}.`;
    }, 'algorithm not allowed'],
    ['HS256-signed with the public key as the secret (algorithm confusion)', async () => {
      const keys = await testKeys();
      const secret = new TextEncoder().encode(JSON.stringify(keys.publicJwk));
      return new SignJWT({ sub: String(alice), iss: DEV_ISSUER, aud: DEV_AUDIENCE }).setProtectedHeader({ alg: 'HS256', kid: keys.publicJwk.kid }).setExpirationTime('1h').sign(secret);
    }, 'algorithm not allowed'],
    ['with its signature stripped', async () => `${(await tokenFor(alice)).split('.').slice(0, 2).join('.')}.`, 'signature verification failed'],
    ['with a tampered payload', async () => {
      const [header, , signature] = (await tokenFor(alice)).split('.');
      return `${header}.${base64url.encode(JSON.stringify({ sub: String(bob), iss: DEV_ISSUER, aud: DEV_AUDIENCE, exp: now() + 600 }))}.${signature}`;
    }, 'signature verification failed'],
    ['larger than 8 KB', () => mintToken({ sub: String(alice), padding: 'x'.repeat(9000) }), 'token larger than 8192 bytes'],
    ['that is not a JWT', async () => 'not-a-jwt', 'malformed token'],
  ];

  it.each(refused)('refuse a token %s with 401 InvalidToken and the bearer challenge', async (_name, make, description) => {
    const res = await send('GET', `/users/${alice}/points`, await make());
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('InvalidToken');
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="api", error="invalid_token", error_description="${description}"`);
  });

  it('refuse a missing token with 401 AuthenticationRequired, and a top-up without one changes nothing', async () => {
    const res = await send('POST', `/users/${bob}/points/top-ups`, undefined, { amount: 1 });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('AuthenticationRequired');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token"/);
    expect(await balanceOf(api.orm, bob)).toBe(700);
  });

  it('refuse two Authorization headers, even two valid ones, and change nothing', async () => {
    const token = await tokenFor(bob);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(new URL(`/users/${bob}/points/top-ups`, api.url), {
        method: 'POST',
        // Raw headers (rawHeaders format): both Authorization headers reach the server.
        headers: ['Host', new URL(api.url).host, 'Authorization', `Bearer ${token}`, 'Authorization', `Bearer ${token}`, 'Content-Type', 'application/json'],
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ amount: 1 }));
    });
    expect(status).toBe(401);
    expect(await balanceOf(api.orm, bob)).toBe(700);
  });

  it('refuse an Authorization header of another scheme', async () => {
    const res = await fetch(new URL(`/users/${alice}/points`, api.url), { headers: { authorization: `Basic ${btoa('a:b')}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('InvalidToken');
  });

  it('ignore any token on public routes', async () => {
    const res = await send('GET', '/products?limit=1', 'garbage');
    expect(res.status).toBe(200);
  });

  it('serve the development issuer\'s public key, without its private part', async () => {
    const res = await send('GET', '/.well-known/jwks.json', undefined);
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: (await testKeys()).publicJwk.kid });
    expect(res.body.keys[0].d).toBeUndefined();
  });
});

describe('access to routes', () => {
  beforeEach(() => {
    refusedCalls.length = 0;
  });

  it('answer 404 for another user\'s balance, ledger, orders and top-up, and let an operator read them', async () => {
    const token = await tokenFor(alice);
    for (const path of [`/users/${bob}/points`, `/users/${bob}/points/ledger`, `/users/${bob}/orders`]) {
      expect((await send('GET', path, token)).status).toBe(404);
      expect((await send('GET', path, await operatorToken())).status).toBe(200);
    }
    expect((await send('POST', `/users/${bob}/points/top-ups`, token, { amount: 5 })).status).toBe(404);
    expect((await send('POST', `/users/${bob}/points/top-ups`, await operatorToken(), { amount: 5 })).body.code).toBe('Forbidden');
    expect(await balanceOf(api.orm, bob)).toBe(700);
  });

  it('refuse a body userId that is not the caller\'s with 403, before any saga', async () => {
    const res = await send('POST', '/orders', await tokenFor(alice), { userId: bob, items: [{ productId: 1, quantity: 1 }] });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('Forbidden');
    const hold = await send('POST', '/reservations', await tokenFor(alice), { userId: bob, performanceId: 1, seatIds: [1] });
    expect(hold.status).toBe(403);
    expect(refusedCalls).toEqual([]);
  });

  it('refuse an operator token placing an order with 403', async () => {
    const res = await send('POST', '/orders', await operatorToken(), { items: [{ productId: 1, quantity: 1 }] });
    expect(res.status).toBe(403);
    expect(refusedCalls).toEqual([]);
  });

  it('refuse a user on the operator routes with 403', async () => {
    const token = await tokenFor(alice);
    for (const path of ['/orders/00000000-0000-4000-8000-000000000001/compensations/retry', '/reservations/00000000-0000-4000-8000-000000000001/compensations/retry']) {
      const res = await send('POST', path, token);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('Forbidden');
    }
    expect(refusedCalls).toEqual([]);
  });
});

/**
 * Bearer tokens the API must refuse, each for one reason, minted with jose directly
 * (alongside the test issuer of test/helpers/auth.ts): expired, not yet valid, another
 * issuer or audience, a key the API does not know, `alg: none`, HS256 keyed with the
 * issuer's public key (algorithm confusion), a stripped signature, an oversized token, and
 * subjects that are no user. Every one is otherwise as close to valid as it can be: it
 * names user `userId`, and only its one defect stands between it and acceptance.
 */
import { SignJWT, base64url, exportSPKI, generateKeyPair, importJWK } from 'jose';
import { MAX_TOKEN_BYTES } from '../../api/auth/verifier.ts';
import { mintToken, testKeys, tokenFor } from './auth.ts';

/** One refused token: what is wrong with it, and the `Authorization` header value that carries it (undefined: no header). */
export interface OddToken {
  name: string;
  authorization: string | undefined;
}

const HOUR_S = 3600;
const nowS = () => Math.floor(Date.now() / 1000);

/** `header.payload.signature` of `token`. */
export function jwtParts(token: string): [string, string, string] {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`not a compact JWS: ${token.slice(0, 40)}`);
  return parts as [string, string, string];
}

/** An unsigned JWT (`alg: none`, empty signature) of `claims`. */
export function unsignedToken(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'none', typ: 'JWT' }): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(claims)}.`;
}

/**
 * The refused tokens for user `userId` (an existing user), plus `nonUsers`: subjects that
 * are no user (`sub` of no row, not a number, empty).
 *
 * @param absentUserId an id no user has.
 */
export async function oddTokens(userId: number, absentUserId: number): Promise<OddToken[]> {
  const keys = await testKeys();
  const sub = String(userId);
  const valid = await tokenFor(userId);
  const [validHeader, validPayload] = jwtParts(valid);
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(validPayload))) as Record<string, unknown>;

  // A well-formed ES256 token whose kid and key the API has never seen.
  const stranger = await generateKeyPair('ES256');
  const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'not-a-key-of-this-issuer', typ: 'JWT' }).sign(stranger.privateKey);
  // The same key pair but the kid of the real key: the signature is what refuses it.
  const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: keys.privateJwk.kid!, typ: 'JWT' }).sign(stranger.privateKey);

  // Algorithm confusion: HS256 with the issuer's public key (as PEM and as its JWK text) as the HMAC secret.
  const publicKey = await importJWK(keys.publicJwk, 'ES256');
  if (publicKey instanceof Uint8Array) throw new Error('the public JWK imported as raw bytes');
  const pem = await exportSPKI(publicKey);
  const hs256 = (secret: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: keys.privateJwk.kid!, typ: 'JWT' }).sign(new TextEncoder().encode(secret));

  // Over the size limit, validly signed: the size alone refuses it.
  const padding = 'x'.repeat(MAX_TOKEN_BYTES);
  const oversized = await mintToken({ sub, pad: padding });

  const bearer = (token: string) => `Bearer ${token}`;
  return [
    { name: 'no token', authorization: undefined },
    { name: 'an empty Authorization header', authorization: '' },
    { name: 'expired', authorization: bearer(await mintToken({ sub, iat: nowS() - 2 * HOUR_S, exp: nowS() - HOUR_S })) },
    { name: 'not yet valid', authorization: bearer(await mintToken({ sub, nbf: nowS() + HOUR_S })) },
    { name: 'wrong issuer', authorization: bearer(await mintToken({ sub }, { issuer: 'https://issuer.example.net' })) },
    { name: 'wrong audience', authorization: bearer(await mintToken({ sub }, { audience: 'urn:some-other-api' })) },
    { name: 'no audience', authorization: bearer(await mintToken({ sub, aud: undefined })) },
    { name: 'unknown kid', authorization: bearer(unknownKid) },
    { name: 'signed by another key under the real kid', authorization: bearer(wrongKey) },
    { name: 'alg: none', authorization: bearer(unsignedToken(claims)) },
    { name: 'alg: none under the real kid', authorization: bearer(unsignedToken(claims, { alg: 'none', kid: keys.privateJwk.kid, typ: 'JWT' })) },
    { name: 'HS256 keyed with the public key (PEM)', authorization: bearer(await hs256(pem)) },
    { name: 'HS256 keyed with the public key (JWK)', authorization: bearer(await hs256(JSON.stringify(keys.publicJwk))) },
    { name: 'stripped signature', authorization: bearer(`${validHeader}.${validPayload}.`) },
    { name: 'no signature part', authorization: bearer(`${validHeader}.${validPayload}`) },
    { name: `a token over ${MAX_TOKEN_BYTES} bytes`, authorization: bearer(oversized) },
    { name: 'a subject that is no user', authorization: bearer(await mintToken({ sub: String(absentUserId) })) },
    { name: 'a subject that is not a user id', authorization: bearer(await mintToken({ sub: 'alice' })) },
    { name: 'an empty subject', authorization: bearer(await mintToken({ sub: '' })) },
    { name: 'no subject', authorization: bearer(await mintToken({ sub: undefined })) },
    { name: 'not a bearer scheme', authorization: `Basic ${Buffer.from(`${sub}:secret`).toString('base64')}` },
    { name: 'the scheme without a token', authorization: 'Bearer' },
  ];
}

/**
 * Bearer token verification (RFC 6750, tokens are JWTs checked with jose): the signature
 * against the issuer's keys (the development issuer's own key, or the provider's JWKS at
 * AUTH_JWKS_URL), asymmetric algorithms only, `iss`, `aud`, `exp` and `nbf` with a small
 * clock tolerance. The caller's user id is `sub`; a role claim holding the operator role
 * makes an operator. A user token whose `sub` is no existing user is refused.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { poolQuery, type Orm } from '../../db/orm.ts';
import type { AuthSettings } from '../../config/index.ts';
import { ApiError, ErrorCode, serviceUnavailable } from '../errors.ts';
import { loadDevKeys } from './dev-issuer.ts';

/** The authenticated caller of a request (`ctx.state.caller`). */
export interface Caller {
  /** The token's `sub`. */
  subject: string;
  /** The user the caller acts as: `sub` as a number, for a user token (whose user exists); undefined for an operator. */
  userId: number | undefined;
  /** Whether the token carries the operator role. */
  operator: boolean;
}

/**
 * Signature algorithms accepted: asymmetric only, so `alg: none` and HS256 signed with a
 * public key (algorithm confusion) are refused before any key is used.
 */
export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Largest token accepted, in bytes (characters: a JWT is ASCII); a larger one is refused unread. */
export const MAX_TOKEN_BYTES = 8 * 1024;

/** The `WWW-Authenticate` challenge of a 401 (RFC 6750, section 3). `description` must not contain `"` or `\`. */
export function bearerChallenge(description: string): string {
  return `Bearer realm="api", error="invalid_token", error_description="${description}"`;
}

/** A 401 problem (`code`, default `InvalidToken`) with the bearer challenge naming `description`. */
export function invalidToken(description: string, code: string = ErrorCode.InvalidToken): ApiError {
  return new ApiError(401, code, `The bearer token was refused: ${description}`, {
    headers: { 'WWW-Authenticate': bearerChallenge(description) },
  });
}

/** Verifies a bearer token (the string after `Bearer `) into its {@link Caller}. */
export type TokenVerifier = (token: string) => Promise<Caller>;

/**
 * A verifier for `settings`: the development issuer's key (loaded from its folder on the
 * first call), or the remote JWKS at `settings.jwksUrl` (fetched and cached by jose,
 * refetched for an unknown `kid`). `orm` answers whether a user token's `sub` exists.
 * The returned function throws `ApiError` 401 `InvalidToken` for any token it refuses,
 * and lets other errors (a JWKS that cannot be fetched, the database) through.
 */
export function createTokenVerifier(settings: AuthSettings, orm: Orm): TokenVerifier {
  const keys = keySource(settings);
  return async (token) => {
    if (token.length > MAX_TOKEN_BYTES) throw invalidToken(`token larger than ${MAX_TOKEN_BYTES} bytes`);
    const payload = await verifySignedToken(token, await keys(), settings);
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject === '') throw invalidToken('token has no subject');
    if (hasRole(payload[settings.rolesClaim], settings.operatorRole)) return { subject, userId: undefined, operator: true };
    const userId = /^[1-9][0-9]{0,9}$/.test(subject) ? Number(subject) : undefined;
    if (userId === undefined || userId > 2 ** 31 - 1 || !(await userExists(orm, userId))) throw invalidToken('subject is not a user');
    return { subject, userId, operator: false };
  };
}

/** The key lookup of the configured issuer, built on first use. */
function keySource(settings: AuthSettings): () => Promise<JWTVerifyGetKey> {
  let source: Promise<JWTVerifyGetKey> | undefined;
  return () => {
    source ??= settings.devIssuer
      ? loadDevKeys(settings.devIssuer.keysDir).then((k) => createLocalJWKSet({ keys: [k.publicJwk] }))
      : Promise.resolve(createRemoteJWKSet(new URL(requireSetting(settings.jwksUrl, 'AUTH_JWKS_URL'))));
    // A failed key load (an unreadable folder) is tried again on the next request.
    source.catch(() => (source = undefined));
    return source;
  };
}

function requireSetting(value: string | undefined, name: string): string {
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** The verified payload of `token`. @throws ApiError 401 for a token jose refuses. */
async function verifySignedToken(token: string, keys: JWTVerifyGetKey, settings: AuthSettings): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ACCEPTED_ALGORITHMS,
      issuer: requireSetting(settings.issuer, 'AUTH_ISSUER'),
      audience: requireSetting(settings.audience, 'AUTH_AUDIENCE'),
      clockTolerance: settings.clockToleranceSeconds,
      requiredClaims: ['exp', 'sub'],
    });
    return payload;
  } catch (err) {
    throw refusal(err);
  }
}

/** Seconds a client waits (`Retry-After`) when the identity provider's keys could not be fetched. */
const JWKS_RETRY_AFTER_SECONDS = 5;

/**
 * The 401 for a jose refusal; the identity provider's keys that could not be fetched (a
 * timeout, an unreachable or broken JWKS endpoint: not the token's fault) a 503
 * `IdentityProviderUnavailable` with `Retry-After`; anything else as it is.
 */
function refusal(err: unknown): unknown {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || isFetchFailure(err)) {
    return serviceUnavailable(ErrorCode.IdentityProviderUnavailable, 'The identity provider did not answer; retry later', { retryAfterSeconds: JWKS_RETRY_AFTER_SECONDS });
  }
  if (err instanceof errors.JWTExpired) return invalidToken('token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' || err.claim === 'iat') return invalidToken('token not yet valid');
    if (err.claim === 'iss') return invalidToken('unexpected issuer');
    if (err.claim === 'aud') return invalidToken('unexpected audience');
    return invalidToken(`invalid ${err.claim.replace(/[^A-Za-z0-9_]/g, '')} claim`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return invalidToken('no key matches the token');
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalidToken('signature verification failed');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return invalidToken('algorithm not allowed');
  if (err instanceof errors.JOSEError) return invalidToken('malformed token');
  return err;
}

/** Whether `err` is a failed fetch of the JWKS (fetch rejects with a TypeError; a non-2xx answer is a JOSEError jose names so). */
function isFetchFailure(err: unknown): boolean {
  // By name, not instanceof: fetch's TypeError may come from another realm.
  if ((err as Error | null)?.name === 'TypeError' && (err as Error).message === 'fetch failed') return true;
  return err instanceof errors.JOSEError && /Expected 200 OK from the JSON Web Key Set HTTP response/.test(err.message);
}

/** Whether a role claim (an array of strings, or a space-separated string) holds `role`. */
export function hasRole(claim: unknown, role: string): boolean {
  if (typeof claim === 'string') return claim.split(' ').includes(role);
  return Array.isArray(claim) && claim.includes(role);
}

/** One primary-key read straight on the pool (every authenticated request pays it): whether user `id` exists. */
async function userExists(orm: Orm, id: number): Promise<boolean> {
  return (await poolQuery(orm, 'select 1 from app_users where id = $1', [id])).length > 0;
}

/**
 * The API's bearer token settings, parsed from the environment by config/index.ts
 * (which re-exports everything here): the built-in development issuer or an identity
 * provider's JWKS, and the checks the API refuses to start without.
 */
import type { Env } from './env.ts';

/** The issuer string of the built-in development issuer's tokens. */
export const DEV_ISSUER = 'urn:temporal-saga-reference:dev';

/** The audience of the development issuer's tokens when AUTH_AUDIENCE is unset. */
export const DEV_AUDIENCE = 'urn:temporal-saga-reference:api';

/**
 * Bearer token settings of the API. With `devIssuer` set the API trusts only the
 * development issuer's keys (its `jwksUrl` is undefined and `issuer` is {@link DEV_ISSUER});
 * otherwise tokens are checked against the provider's JWKS at `jwksUrl`.
 */
export type AuthSettings = Readonly<{
  /** The built-in development issuer and the folder of its key pair (relative to the working directory), or undefined when off. */
  devIssuer: Readonly<{ keysDir: string }> | undefined;
  /** Whether AUTH_DEV_ISSUER_IN_PRODUCTION allows the development issuer under NODE_ENV=production. */
  devIssuerInProduction: boolean;
  jwksUrl: string | undefined;
  /** The required `iss`; undefined only when misconfigured (see {@link assertApiAuthSettings}). */
  issuer: string | undefined;
  /** The required `aud`. */
  audience: string | undefined;
  rolesClaim: string;
  operatorRole: string;
  clockToleranceSeconds: number;
}>;

/**
 * Refuses auth settings the API must not start with: the development issuer under
 * NODE_ENV=production without AUTH_DEV_ISSUER_IN_PRODUCTION=true, or no development issuer
 * and any of AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE missing. Only the API calls it (the
 * worker and the other processes need no token settings).
 *
 * @throws Error naming the variables to set.
 */
export function assertApiAuthSettings(config: Readonly<{ env: string; auth: AuthSettings }>): void {
  const { auth } = config;
  if (auth.devIssuer) {
    if (config.env === 'production' && !auth.devIssuerInProduction) {
      throw new Error(
        'Invalid environment:\n  AUTH_DEV_ISSUER: the development token issuer is on with NODE_ENV=production (anyone who can read its key folder can mint tokens). ' +
          'Set AUTH_DEV_ISSUER=false with AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE of your identity provider, or AUTH_DEV_ISSUER_IN_PRODUCTION=true to run it anyway.',
      );
    }
    return;
  }
  const missing = (['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter(
    (name) => !{ AUTH_JWKS_URL: auth.jwksUrl, AUTH_ISSUER: auth.issuer, AUTH_AUDIENCE: auth.audience }[name],
  );
  if (missing.length > 0) {
    throw new Error(
      `Invalid environment:\n${missing.map((name) => `  ${name}: required when the development token issuer is off (AUTH_DEV_ISSUER=false or NODE_ENV=production)`).join('\n')}`,
    );
  }
}

/** The auth settings of a parsed environment. */
export function authSettings(e: Env): AuthSettings {
  const devOn = e.AUTH_DEV_ISSUER ? ['true', '1', 'yes'].includes(e.AUTH_DEV_ISSUER) : e.NODE_ENV !== 'production';
  return {
    devIssuer: devOn ? { keysDir: e.AUTH_DEV_KEYS_DIR || (e.NODE_ENV === 'test' ? '.auth/test' : '.auth') } : undefined,
    devIssuerInProduction: e.AUTH_DEV_ISSUER_IN_PRODUCTION,
    jwksUrl: devOn ? undefined : e.AUTH_JWKS_URL || undefined,
    issuer: devOn ? DEV_ISSUER : e.AUTH_ISSUER || undefined,
    audience: e.AUTH_AUDIENCE || (devOn ? DEV_AUDIENCE : undefined),
    rolesClaim: e.AUTH_ROLES_CLAIM,
    operatorRole: e.AUTH_OPERATOR_ROLE,
    clockToleranceSeconds: e.AUTH_CLOCK_TOLERANCE_SECONDS,
  };
}

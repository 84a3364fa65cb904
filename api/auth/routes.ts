/**
 * Authentication wiring of the router: the token verifier, the guard in front of every
 * route (its access as documented, auth/guard.ts), and, only while the development issuer
 * is on, `GET /.well-known/jwks.json` (200 `{ keys: [<public JWK>] }`).
 */
import type { z } from 'zod';
import { assertApiAuthSettings } from '../../config/index.ts';
import type { AppDeps, AppRouter } from '../context.ts';
import { loadDevKeys, type DevKeys } from './dev-issuer.ts';
import { guardRoutes, type RouteAccess } from './guard.ts';
import type { JwksSchema } from './openapi.ts';
import { createTokenVerifier } from './verifier.ts';

/**
 * Registers `GET /.well-known/jwks.json` when the development issuer is on. Call it with
 * the other routes, before {@link guardEveryRoute}.
 * @throws Error (from config `assertApiAuthSettings`) for auth settings the API must not start with.
 */
export function registerAuthRoutes(router: AppRouter, deps: AppDeps): void {
  assertApiAuthSettings(deps.config);
  const devIssuer = deps.config.auth.devIssuer;
  if (!devIssuer) return;
  let keys: Promise<DevKeys> | undefined;
  router.get<object, object, z.infer<typeof JwksSchema>>('/.well-known/jwks.json', async (ctx) => {
    keys ??= loadDevKeys(devIssuer.keysDir);
    keys.catch(() => (keys = undefined));
    ctx.body = { keys: [(await keys).publicJwk as z.infer<typeof JwksSchema>['keys'][number]] };
  });
}

/**
 * Puts the guard of its documented access (`routes`, the OpenAPI route table) in front of
 * every route registered on `router` so far, with one token verifier for all of them.
 * @throws Error for a registered route whose access is not documented.
 */
export function guardEveryRoute(router: AppRouter, deps: AppDeps, routes: readonly RouteAccess[]): void {
  guardRoutes(router, routes, createTokenVerifier(deps.config.auth, deps.orm));
}

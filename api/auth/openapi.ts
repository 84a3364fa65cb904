/** The documented route of the development issuer's keys (handler: auth/routes.ts). */
import { z } from 'zod';
import { jsonAnswer, route, type DocumentedRoute } from '../openapi/operation.ts';

/** A JSON Web Key Set (RFC 7517, section 5) of public keys. */
export const JwksSchema = z
  .object({
    keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional(), alg: z.string().optional(), use: z.string().optional() })),
  })
  .meta({ id: 'Jwks', description: 'A JSON Web Key Set (RFC 7517) of public keys.' });

/** The JWKS route. */
export const authRoutes: DocumentedRoute[] = [
  route('get', '/.well-known/jwks.json', {
    access: 'public',
    operationId: 'getDevelopmentJwks',
    tag: 'Documentation',
    summary: 'Public keys of the development token issuer',
    description:
      'Served only when the built-in development issuer is on (`AUTH_DEV_ISSUER`, the default under NODE_ENV `development` and `test`); a deployment that trusts a real identity provider (`AUTH_JWKS_URL`) answers 404 `NotFound` here. Tokens for local use come from `npm run token -- --user <id>`.',
    answers: { 200: jsonAnswer(JwksSchema, 'The key set the development issuer signs tokens with.') },
    problems: { 404: ['NotFound'] },
  }),
];

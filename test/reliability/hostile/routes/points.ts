/**
 * Generators of the point routes (api/points/routes.ts): GET /users/:id/points,
 * GET /users/:id/points/ledger (a paged list, see routes/lists.ts) and
 * POST /users/:id/points/top-ups, whose path holds a user id too.
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import { jsonBodyFamilies, utf8 } from '../families.ts';
import { notAnEntityId, pathFamilies } from '../paths.ts';
import { DEPTHS, deepObject, extraKey, neverValidValue, objectText, pastMax } from '../values.ts';
import { listEndpoint } from './lists.ts';

const topUpPath = (id: string | number) => `/users/${id}/points/top-ups`;
/** A valid top-up body: 1..10,000,000 points. */
const validAmount = fc.integer({ min: 1, max: 10_000_000 }).map((amount) => objectText([['amount', String(amount)]]));

/** Top-up bodies with one defect. */
const topUpBodies: fc.Arbitrary<{ text: string; defect: string }> = fc.oneof(
  pastMax(10_000_000).map((a) => ({ text: objectText([['amount', a]]), defect: `amount ${a.slice(0, 40)}` })),
  fc.constant({ text: '{}', defect: 'no amount' }),
  fc.tuple(extraKey(['amount']), fc.oneof(neverValidValue, fc.constant('"KRW"'))).map(([k, v]) => ({ text: objectText([['amount', '100'], [k, v]]), defect: `unknown field ${JSON.stringify(k)}` })),
  neverValidValue.map((v) => ({ text: objectText([['amount', '100'], ['amount', v]]), defect: 'duplicate amount key, the last bad' })),
  validAmount.map((text) => ({ text: `[${text}]`, defect: 'array body' })),
  fc.constantFrom(...DEPTHS).map((d) => ({ text: objectText([['amount', deepObject(d)]]), defect: `amount nested ${d} deep` })),
);

/** POST /users/:id/points/top-ups: body defects, envelope defects, a bad Idempotency-Key, and a bad or absent user id (or one without an account). */
function postTopUps(kit: EndpointKit): EndpointGenerator {
  const { fx, absentText } = kit;
  const { families, validParts } = jsonBodyFamilies(topUpPath(fx.userId), topUpBodies, validAmount);
  return kit.make(
    'POST /users/:id/points/top-ups',
    [
      ...families,
      ...pathFamilies('POST', topUpPath(':id'), fc.constant(String(fx.userId)), notAnEntityId, fc.oneof(absentText, fc.constant(String(fx.userWithoutAccount))), () => ({
        headers: [['Content-Type', 'application/json']],
        body: utf8('{"amount":100}'),
      })),
    ],
    validParts,
    kit.others('POST'),
  );
}

/**
 * GET /users/:id/points/ledger: query defects on the user with a point account; a bad id,
 * or one of no user or of a user without a point account (404).
 */
function getLedger(kit: EndpointKit): EndpointGenerator {
  const { fx, absentText, noBody } = kit;
  const template = '/users/:id/points/ledger';
  const validId = fc.constant(String(fx.userId));
  const noAccount = fc.oneof(absentText, fc.constant(String(fx.userWithoutAccount)));
  return listEndpoint(kit, 'GET /users/:id/points/ledger', 'ledger', validId.map((id) => template.replace(':id', id)), pathFamilies('GET', template, validId, notAnEntityId, noAccount, noBody));
}

/** The generators of GET /users/:id/points, GET /users/:id/points/ledger and POST /users/:id/points/top-ups. */
export function pointEndpoints(kit: EndpointKit): { getPoints: EndpointGenerator; getLedger: EndpointGenerator; topUps: EndpointGenerator } {
  const getPoints = kit.byEntityId('GET /users/:id/points', '/users/:id/points', [kit.fx.userId]);
  return { getPoints, getLedger: getLedger(kit), topUps: postTopUps(kit) };
}

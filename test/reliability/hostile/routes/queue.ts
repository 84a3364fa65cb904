/**
 * Generators of the waiting-queue routes (api/queue/routes.ts): POST /queue/tokens, and
 * GET and DELETE /queue/tokens/:id on the fixtures' queue tokens.
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit } from '../endpoint-kit.ts';
import { bodyEnvelopeFamilies, jsonTypes, withJson, type WeightedFamily } from '../families.ts';
import { notAUuid, pathFamilies } from '../paths.ts';
import { DEPTHS, deepArray, deepObject, extraKey, neverValidValue, objectText } from '../values.ts';

const JOIN_PATH = '/queue/tokens';

/**
 * POST /queue/tokens: a join body with one defect, the envelope defects of a valid one.
 * The route reads no Idempotency-Key (a repeated join answers the caller's live token), so
 * a bad key is no defect. The valid body names a performance the fixtures' user already
 * has a live token for (200, nothing changes), for the method, header and token families.
 */
function postJoin(kit: EndpointKit): EndpointGenerator {
  const { fx, absentText } = kit;
  const validJoin = fc.constantFrom(fx.performanceA, fx.performanceB).map((id) => objectText([['performanceId', String(id)]]));
  const joinBodies: fc.Arbitrary<{ text: string; defect: string }> = fc.oneof(
    fc.oneof(neverValidValue, absentText).map((p) => ({ text: objectText([['performanceId', p]]), defect: `performanceId ${p.slice(0, 40)}` })),
    fc.constantFrom('{}', '{"performanceId":null}', '{"performanceid":1}', '{"performance_id":1}').map((text) => ({ text, defect: `body ${text}` })),
    // The user is always the caller: a userId, even the caller's own, is an unknown field of this strict body.
    fc.tuple(validJoin, fc.constantFrom(fx.userId, fx.userWithoutAccount)).map(([text, u]) => ({ text: `${text.slice(0, -1)},"userId":${u}}`, defect: 'userId field' })),
    fc.tuple(validJoin, extraKey(['performanceId']), fc.oneof(neverValidValue, fc.constant('1'))).map(([text, k, v]) => ({
      text: `${text.slice(0, -1)},${JSON.stringify(k)}:${v}}`,
      defect: `unknown field ${JSON.stringify(k)}`,
    })),
    fc.tuple(validJoin, neverValidValue).map(([text, v]) => ({ text: `${text.slice(0, -1)},"performanceId":${v}}`, defect: 'duplicate performanceId key, the last bad' })),
    fc.tuple(fc.constantFrom(...DEPTHS), fc.boolean()).map(([d, array]) => ({
      text: objectText([['performanceId', array ? deepArray(d, String(fx.performanceA)) : deepObject(d)]]),
      defect: `performanceId nested ${d} deep`,
    })),
    validJoin.map((text) => ({ text: `[${text}]`, defect: 'array body' })),
  );
  const validParts = fc.tuple(validJoin, jsonTypes).map(([text, type]) => withJson('POST', JOIN_PATH, text, type, []));
  const families: WeightedFamily[] = [
    [fc.tuple(joinBodies, jsonTypes).map(([b, type]) => withJson('POST', JOIN_PATH, b.text, type, [b.defect])), 8],
    ...bodyEnvelopeFamilies('POST', fc.constant(JOIN_PATH), validJoin),
  ];
  return kit.make('POST /queue/tokens', families, validParts, kit.others('POST'));
}

/**
 * GET or DELETE /queue/tokens/:id on the fixtures' user's own tokens (live and ended):
 * a bad id, and ids that name no token of the caller's: none at all, or the other user's
 * (404 either way, nothing changes).
 */
function byQueueToken(kit: EndpointKit, method: 'GET' | 'DELETE'): EndpointGenerator {
  const { fx, uuid, noBody } = kit;
  const template = '/queue/tokens/:id';
  const own = fc.constantFrom(fx.queueTokens.active, fx.queueTokens.waiting, ...fx.queueTokens.ended);
  const validId = fc.tuple(own, fc.boolean()).map(([id, upper]) => (upper ? id.toUpperCase() : id));
  const notTheCallers = fc.oneof(uuid, fc.constant(fx.queueTokens.othersActive));
  return kit.make(
    `${method} ${template}`,
    pathFamilies(method, template, validId, notAUuid, notTheCallers, noBody),
    validId.map((id) => ({ method, target: template.replace(':id', id), headers: [], defects: [] })),
    kit.others('GET', 'DELETE'),
  );
}

/** The generators of the three queue routes. */
export function queueEndpoints(kit: EndpointKit): Record<'joinQueue' | 'getQueueToken' | 'cancelQueueToken', EndpointGenerator> {
  return { joinQueue: postJoin(kit), getQueueToken: byQueueToken(kit, 'GET'), cancelQueueToken: byQueueToken(kit, 'DELETE') };
}

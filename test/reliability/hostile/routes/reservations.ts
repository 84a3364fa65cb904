/**
 * Generators of the reservation routes (api/reservations/routes.ts): POST /reservations,
 * POST /reservations/:id/payment, and GET and DELETE /reservations/:id. Holds and
 * payments carry the fixtures' user's ACTIVE queue token (header `Queue-Token`), unless
 * the queue-token family (routes/queue-token.ts) takes it away or replaces it.
 */
import fc from 'fast-check';
import type { EndpointGenerator, EndpointKit, Fixtures } from '../endpoint-kit.ts';
import { bodyEnvelopeFamilies, jsonTypes, jsonBodyFamilies, withJson, type Parts, type WeightedFamily } from '../families.ts';
import { carryingQueueToken, queueTokenFamily, withQueueToken } from './queue-token.ts';
import { notAUuid, pathFamilies } from '../paths.ts';
import { DEPTHS, deepArray, deepObject, extraKey, neverValidValue, objectText, pastMax } from '../values.ts';

/** A reservation body of the fields given (in that order), then `extra`. */
const reservation = (fields: { userId?: string; performanceId?: string; seatIds?: string; holdSeconds?: string }, extra: [string, string][] = []) =>
  objectText([...(Object.entries(fields).filter(([, v]) => v !== undefined) as [string, string][]), ...extra]);

/** The fields of a valid reservation of 1..10 seats of performance A, as JSON texts; holdSeconds optional. */
function validReservationFieldsOf(fx: Fixtures) {
  const seatList = fc.subarray(fx.seatsA, { minLength: 1, maxLength: Math.min(10, fx.seatsA.length) });
  return fc.tuple(seatList, fc.option(fc.integer({ min: 1, max: 1800 }), { nil: undefined })).map(([seats, hold]) => ({
    userId: String(fx.userId),
    performanceId: String(fx.performanceA),
    seatIds: JSON.stringify(seats),
    holdSeconds: hold === undefined ? undefined : String(hold),
  }));
}

/** POST /reservations: body defects, envelope defects, a bad Idempotency-Key. */
function postReservations(kit: EndpointKit): EndpointGenerator {
  const validReservationFields = validReservationFieldsOf(kit.fx);
  const validReservation = validReservationFields.map((f) => reservation(f));
  const { families, validParts } = jsonBodyFamilies('/reservations', reservationBodies(kit, validReservationFields, validReservation), validReservation);
  const { fx } = kit;
  // A hold of performance B's seats: what the user's WAITING token (for B) is refused for.
  const validHoldOfB = fc.subarray(fx.seatsB, { minLength: 1 }).map((seats) => reservation({ performanceId: String(fx.performanceB), seatIds: JSON.stringify(seats) }));
  const holdsOfB = fc.tuple(validHoldOfB, jsonTypes).map(([text, type]) => withJson('POST', '/reservations', text, type, []));
  return kit.make(
    'POST /reservations',
    [...withQueueToken(families, fx), [queueTokenFamily(fc.oneof(validParts, holdsOfB), fx), 2]],
    carryingQueueToken(validParts, fx),
    kit.others('POST'),
  );
}

/** Reservation bodies with one defect, built on valid fields and `validReservation`, a whole valid body. */
function reservationBodies(
  kit: EndpointKit,
  validReservationFields: ReturnType<typeof validReservationFieldsOf>,
  validReservation: fc.Arbitrary<string>,
): fc.Arbitrary<{ text: string; defect: string }> {
  const { fx, absentText } = kit;
  return fc.oneof(
    fc.tuple(validReservationFields, fc.oneof(neverValidValue, absentText, fc.constant(String(fx.userWithoutAccount)))).map(([f, u]) => ({ text: reservation({ ...f, userId: u }), defect: `userId ${u.slice(0, 40)}` })),
    fc.tuple(validReservationFields, fc.oneof(neverValidValue, absentText)).map(([f, p]) => ({ text: reservation({ ...f, performanceId: p }), defect: `performanceId ${p.slice(0, 40)}` })),
    fc.tuple(validReservationFields, neverValidValue.filter((v) => v !== '[1]')).map(([f, s]) => ({ text: reservation({ ...f, seatIds: s }), defect: `seatIds ${s.slice(0, 40)}` })),
    fc.tuple(validReservationFields, fc.oneof(neverValidValue, absentText, fc.constantFrom(...fx.seatsB).map(String))).map(([f, s]) => ({
      text: reservation({ ...f, seatIds: `[${[...(JSON.parse(f.seatIds!) as number[]).map(String), s].join(',')}]` }),
      defect: `seat ${s.slice(0, 40)}`,
    })),
    fc.tuple(validReservationFields, fc.constantFrom(...fx.seatsA)).map(([f, s]) => ({ text: reservation({ ...f, seatIds: `[${s},${s}]` }), defect: 'duplicate seat' })),
    validReservationFields.map((f) => ({ text: reservation({ ...f, seatIds: JSON.stringify([...fx.seatsA, ...fx.absentIds].slice(0, 11)) }), defect: '11 seats' })),
    fc.tuple(validReservationFields, pastMax(1800)).map(([f, h]) => ({ text: reservation({ ...f, holdSeconds: h }), defect: `holdSeconds ${h.slice(0, 40)}` })),
    // No userId is no defect: the reservation is placed for the token's user.
    fc.tuple(validReservationFields, fc.constantFrom('performanceId', 'seatIds')).map(([f, drop]) => ({ text: reservation({ ...f, [drop]: undefined }), defect: `no ${drop}` })),
    fc.tuple(validReservationFields, extraKey(['userId', 'performanceId', 'seatIds', 'holdSeconds']), fc.oneof(neverValidValue, fc.constant('1'))).map(([f, k, v]) => ({ text: reservation(f, [[k, v]]), defect: `unknown field ${JSON.stringify(k)}` })),
    fc.tuple(validReservationFields, neverValidValue).map(([f, v]) => ({ text: reservation(f, [['performanceId', v]]), defect: 'duplicate performanceId key, the last bad' })),
    fc.tuple(validReservationFields, fc.constantFrom(...DEPTHS)).map(([f, d]) => ({ text: reservation({ ...f, seatIds: deepArray(d, String(fx.seatsA[0])) }), defect: `seatIds nested ${d} deep` })),
    validReservation.map((text) => ({ text: `[${text}]`, defect: 'array body' })),
  );
}

/** POST /reservations/:id/payment: a body that is not `{}`, envelope defects, a bad id. */
function postPayment(kit: EndpointKit): EndpointGenerator {
  const { uuid, noBody } = kit;
  const paymentPath = uuid.map((id) => `/reservations/${id}/payment`);
  const validPayment = paymentPath.map((target): Parts => ({ method: 'POST', target, headers: [], defects: [] }));
  // The queue token is checked after the owner, whom a reservation without a row is looked up in Temporal for: the user's PENDING one.
  const payingTheHold: fc.Arbitrary<Parts> = fc.constant({ method: 'POST', target: `/reservations/${kit.fx.reservationId}/payment`, headers: [], defects: [] });
  const paymentBodies: fc.Arbitrary<{ text: string; defect: string }> = fc.oneof(
    fc.tuple(extraKey([]), fc.oneof(neverValidValue, fc.constantFrom('1', '1000', '"card"'))).map(([k, v]) => ({ text: objectText([[k, v]]), defect: `body field ${JSON.stringify(k)}` })),
    fc.constantFrom('[]', '[{}]', deepArray(10_000), deepObject(10_000), '{"amount":1000}', '{"":null}').map((text) => ({ text, defect: `body ${text.slice(0, 30)}` })),
  );
  const families: WeightedFamily[] = [
    [fc.tuple(paymentPath, paymentBodies, jsonTypes).map(([path, b, type]) => withJson('POST', path, b.text, type, [b.defect])), 3],
    ...bodyEnvelopeFamilies('POST', paymentPath, fc.constant('{}')),
    ...pathFamilies('POST', '/reservations/:id/payment', uuid, notAUuid, undefined, noBody),
  ];
  return kit.make(
    'POST /reservations/:id/payment',
    [...withQueueToken(families, kit.fx), queueTokenFamily(payingTheHold, kit.fx)],
    carryingQueueToken(validPayment, kit.fx),
    ['GET', 'PUT', 'PATCH', 'DELETE'],
  );
}

/** The generators of the four reservation routes. */
export function reservationEndpoints(kit: EndpointKit): Record<'reservations' | 'payment' | 'deleteReservation' | 'getReservation', EndpointGenerator> {
  return {
    reservations: postReservations(kit),
    payment: postPayment(kit),
    deleteReservation: kit.byUuid('DELETE /reservations/:id', 'DELETE', '/reservations/:id', ['PUT', 'PATCH', 'POST']),
    getReservation: kit.byUuid('GET /reservations/:id', 'GET', '/reservations/:id', ['PUT', 'PATCH', 'POST']),
  };
}

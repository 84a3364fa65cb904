/**
 * The `Queue-Token` header of holds and payments (api/reservations/queue-token.ts): the
 * fixtures' user's ACTIVE token for performance A goes on every hold and payment
 * ({@link withQueueToken}), so each request is refused for its own defect; the queue-token
 * family takes it away or replaces it on an otherwise valid request: missing, not a UUID,
 * given twice, unknown, another user's, the user's WAITING token (for performance B) or
 * an ended one. Each is refused (403, or 400 for a header that is not one UUID; a payment
 * of a reservation that does not exist may answer 404 first) and changes nothing.
 */
import fc from 'fast-check';
import { QUEUE_TOKEN_HEADER } from '../../../../common/queue.ts';
import type { Fixtures } from '../endpoint-kit.ts';
import type { Family, Parts, WeightedFamily } from '../families.ts';
import { headerBytes, nastyString } from '../values.ts';

/** `Queue-Token` headers to send (none, one, or several) and what is wrong with them. */
type TokenHeaders = { values: string[]; defect: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `parts` with the fixtures' user's ACTIVE queue token, unless they carry a `Queue-Token` already. */
function carryingToken(parts: Parts, fx: Fixtures): Parts {
  if (parts.headers.some(([name]) => name.toLowerCase() === QUEUE_TOKEN_HEADER.toLowerCase())) return parts;
  return { ...parts, headers: [...parts.headers, [QUEUE_TOKEN_HEADER, fx.queueTokens.active]] };
}

/** `requests` with the fixtures' user's ACTIVE queue token on each. */
export function carryingQueueToken(requests: fc.Arbitrary<Parts>, fx: Fixtures): fc.Arbitrary<Parts> {
  return requests.map((parts) => carryingToken(parts, fx));
}

/** `families` with the fixtures' user's ACTIVE queue token on every request (weights kept). */
export function withQueueToken(families: readonly WeightedFamily[], fx: Fixtures): WeightedFamily[] {
  return families.map((entry): WeightedFamily => {
    const [family, weight] = Array.isArray(entry) ? entry : [entry, 1];
    return [carryingQueueToken(family, fx), weight];
  });
}

/** `Queue-Token` values that are not one UUID (400), never a UUID once Node trims them. */
function notOneUuid(fx: Fixtures): fc.Arbitrary<TokenHeaders> {
  const active = fx.queueTokens.active;
  return fc.oneof(
    fc
      .constantFrom('', 'null', '0', `${active}x`, `{${active}}`, active.replace(/-/g, ''), `urn:uuid:${active}`, active.slice(0, -1), `${active};${active}`)
      .map((value) => ({ values: [value], defect: `Queue-Token ${JSON.stringify(value.slice(0, 40))}` })),
    nastyString
      .map(headerBytes)
      .filter((value) => !UUID.test(value.trim()))
      .map((value) => ({ values: [value], defect: 'Queue-Token of random bytes' })),
    // Node joins repeated headers with ", ": two tokens are no UUID.
    fc.tuple(fc.constant(active), fc.oneof(fc.constant(active), fc.uuid())).map((values) => ({ values, defect: 'Queue-Token given twice' })),
  );
}

/** `Queue-Token` values that are UUIDs but admit nothing here: unknown, another user's, WAITING, ended. */
function notAdmitting(fx: Fixtures): fc.Arbitrary<TokenHeaders> {
  const { waiting, ended, othersActive } = fx.queueTokens;
  return fc.oneof(
    fc.uuid().map((id) => ({ values: [id], defect: 'unknown Queue-Token' })),
    fc.constant<TokenHeaders>({ values: [othersActive], defect: 'another user\'s Queue-Token' }),
    fc.constant<TokenHeaders>({ values: [waiting], defect: 'a WAITING Queue-Token (for performance B)' }),
    fc.constantFrom(...ended).map((id) => ({ values: [id], defect: 'an ended Queue-Token' })),
  );
}

/**
 * The queue-token family of a route whose `valid` requests (no `Queue-Token` of their own)
 * would be accepted with the user's ACTIVE token: the header missing, not one UUID, or a
 * token that admits nothing.
 */
export function queueTokenFamily(valid: fc.Arbitrary<Parts>, fx: Fixtures): Family {
  const header = fc.oneof(fc.constant<TokenHeaders>({ values: [], defect: 'no Queue-Token' }), notOneUuid(fx), notAdmitting(fx));
  return fc.tuple(valid, header).map(([parts, { values, defect }]) => ({
    ...parts,
    headers: [...parts.headers, ...values.map((value): [string, string] => [QUEUE_TOKEN_HEADER, value])],
    defects: [defect],
  }));
}

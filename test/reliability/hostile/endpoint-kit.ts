/**
 * What every endpoint's generator is made with: the fixture rows, the noise that finishes
 * every request (garbage and duplicated `X-Request-Id`, unknown headers, an ignored
 * query), the bearer token of its natural actor on the routes that need one (tokens.ts),
 * and {@link EndpointKit.make}, which adds the method, header-size, token and protocol
 * families to an endpoint's own. The route groups in routes/ build on it.
 */
import fc from 'fast-check';
import { routeAccess } from './contract.ts';
import { requestFamilies, STANDARD_METHODS, type Family, type Parts, type WeightedFamily } from './families.ts';
import { hostile, type HostileRequest } from './http.ts';
import { notAnEntityId, notAUuid, pathFamilies } from './paths.ts';
import { rawFamily } from './protocol.ts';
import { tokenFamily } from './tokens.ts';
import { headerBytes, nastyString, pct } from './values.ts';

/** The rows the generators build almost-valid requests from. */
export interface Fixtures {
  /** Has a point account. */
  userId: number;
  /** A user row without a point account. */
  userWithoutAccount: number;
  productA: number;
  productB: number;
  performanceA: number;
  performanceB: number;
  /** Seats of performance A (some AVAILABLE, one HELD, one RESERVED). */
  seatsA: number[];
  seatsB: number[];
  /** Well-formed ids that are no row of any table. */
  absentIds: number[];
  /** `userId`'s PENDING reservation (of performance A, holding `seatsA[3]`; no saga runs for it, and it records no queue token). */
  reservationId: string;
  /**
   * Queue tokens: `userId`'s ACTIVE one for performance A (the one its holds and payments
   * carry), its WAITING one for performance B, its ended ones (EXPIRED, CANCELLED) for A,
   * and `userWithoutAccount`'s ACTIVE one for A.
   */
  queueTokens: { active: string; waiting: string; ended: string[]; othersActive: string };
  /** A valid bearer token of each user above (`userId`, `userWithoutAccount`), by user id. */
  tokens: ReadonlyMap<number, string>;
}

/** The generators of one endpoint. */
export interface EndpointGenerator {
  endpoint: string;
  arbitrary: fc.Arbitrary<HostileRequest>;
}

/** Noise headers: never Content-*, Transfer-Encoding, Host or Expect, so they cannot repair a request. */
const noiseHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(
    fc.constant('X-Request-Id'),
    fc.oneof(
      nastyString.map(headerBytes),
      fc.integer({ min: 101, max: 3_000 }).map((n) => 'r'.repeat(n)),
      fc.constantFrom('', ' ', '../../etc/passwd', '${jndi:ldap://x}', '\u00ff\u00fe', 'id-1, id-2'),
    ),
  ),
  // No Authorization: a second one is a token defect of its own (hostile/tokens.ts), refused 401 whatever the request.
  fc.tuple(fc.constantFrom('Accept', 'Accept-Language', 'User-Agent', 'X-Forwarded-For', 'Forwarded', 'Cookie', 'Origin', 'Referer'), nastyString.map(headerBytes)),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,24}$/).map((n) => `X-Hostile-${n}`), nastyString.map(headerBytes)),
);

/**
 * The token of a request's natural actor: the user of a `/users/:id/...` target when the
 * fixtures have one, else the fixtures' user (whose orders, reservations and bodies they are).
 */
function naturalToken(fx: Fixtures, target: string): string {
  const pathUser = /^\/users\/(\d+)\//i.exec(target);
  const token = fx.tokens.get(pathUser ? Number(pathUser[1]) : fx.userId) ?? fx.tokens.get(fx.userId);
  if (!token) throw new Error(`no token for the fixtures' user ${fx.userId}`);
  return token;
}

/**
 * Finishes a family: Host first, then, on a route that needs a token, the natural actor's
 * (unless the family set an Authorization of its own: the token family), noise headers
 * (never a second Authorization), an ignored query where the
 * route reads none.
 */
function finish(endpoint: string, family: Family, host: string, readsQuery: boolean, token: ((target: string) => string) | undefined): fc.Arbitrary<HostileRequest> {
  const query = readsQuery
    ? fc.constant('')
    : fc.option(fc.constantFrom('?x=1', '?limit=abc', '?%ff=%00', '?a[b]=c&a=1', `?q=${pct('\u202e\ud800')}`), { nil: '' });
  return fc.tuple(family, fc.array(noiseHeader, { maxLength: 3 }), query).map(([parts, noise, q]) =>
    hostile({
      endpoint,
      method: parts.method,
      target: parts.target.includes('?') ? parts.target : parts.target + q,
      headers: [['Host', host], ...authorization(parts, token), ...parts.headers, ...noise],
      body: parts.body,
      chunked: parts.chunked,
      defects: parts.defects,
      expect: parts.expect,
    }),
  );
}

/** The natural actor's Authorization header for `parts`, unless they have one or the route needs none. */
function authorization(parts: Parts, token: ((target: string) => string) | undefined): [string, string][] {
  if (!token || parts.headers.some(([name]) => name.toLowerCase() === 'authorization')) return [];
  return [['Authorization', `Bearer ${token(parts.target)}`]];
}

const ACCESS = routeAccess();

/** The fixtures and the shared pieces an endpoint's generator is built from. */
export interface EndpointKit {
  fx: Fixtures;
  /** Ids of no row, as path or body text. */
  absentText: fc.Arbitrary<string>;
  uuid: fc.Arbitrary<string>;
  /** Headers and body of a request without a body (GET, DELETE). */
  noBody(): { headers: [string, string][] };
  /** The standard methods other than `mine`: those the route does not have (405). */
  others(...mine: string[]): string[];
  /**
   * An endpoint's generator: its own families (`[family, weight]`; a bare family weighs
   * 1), the method and header-size families (1 each) and the protocol family (2).
   * `readsQuery`: the route reads the query, so no ignored query is added.
   */
  make(endpoint: string, families: WeightedFamily[], validParts: fc.Arbitrary<Parts>, wrongMethods: readonly string[], readsQuery?: boolean): EndpointGenerator;
  /** The generator of a route without a body whose `:id` in `template` is a UUID. */
  byUuid(endpoint: string, method: string, template: string, wrong: readonly string[]): EndpointGenerator;
  /** The generator of a GET route whose `:id` in `template` is an entity id; `valid` are ids of existing rows. */
  byEntityId(endpoint: string, template: string, valid: number[]): EndpointGenerator;
}

/** The {@link EndpointKit} for the fixtures `fx` and the server at `host`. */
export function endpointKit(fx: Fixtures, host: string): EndpointKit {
  const absent = fc.constantFrom(...fx.absentIds);
  const absentText = absent.map(String);
  const uuid = fc.uuid();
  const noBody = () => ({ headers: [] as [string, string][] });
  const others = (...mine: string[]) => STANDARD_METHODS.filter((m) => !mine.includes(m));
  const make: EndpointKit['make'] = (endpoint, families, validParts, wrongMethods, readsQuery = false) => {
    const access = ACCESS.get(endpoint);
    if (!access) throw new Error(`openapi.json has no ${endpoint}`);
    const token = access === 'public' ? undefined : (target: string) => naturalToken(fx, target);
    const own = token ? [...families, tokenFamily(validParts, token)] : families;
    const weighted = [...own, ...requestFamilies(validParts, wrongMethods)].map((entry) => {
      const [family, weight] = Array.isArray(entry) ? entry : [entry, 1];
      return { arbitrary: finish(endpoint, family, host, readsQuery, token), weight };
    });
    return { endpoint, arbitrary: fc.oneof(...weighted, { arbitrary: rawFamily(validParts, endpoint, host), weight: 2 }) };
  };
  return {
    fx,
    absentText,
    uuid,
    noBody,
    others,
    make,
    byUuid: (endpoint, method, template, wrong) =>
      make(endpoint, pathFamilies(method, template, uuid, notAUuid, undefined, noBody), uuid.map((id) => ({ method, target: template.replace(':id', id), headers: [], defects: [] })), wrong),
    byEntityId(endpoint, template, valid) {
      const validId = fc.constantFrom(...valid).map(String);
      return make(
        endpoint,
        pathFamilies('GET', template, validId, notAnEntityId, absentText, noBody),
        validId.map((id) => ({ method: 'GET', target: template.replace(':id', id), headers: [], defects: [] })),
        others('GET'),
      );
    },
  };
}

/**
 * Generators of invalid requests, one per endpoint. Each starts from a fully valid
 * request on the fixtures and breaks it in one way, named in `defects` (so most inputs
 * are almost valid: a real user with a bad quantity, a real reservation id with a body),
 * then adds noise that can never make a request valid: garbage and duplicated
 * `X-Request-Id`, unknown headers, an ignored query. The exceptions, valid requests
 * with an `expect`ed 200: a list's valid query (a page), a valid query of `GET
 * /products/popular` (its window, at most its limit), and `GET /problems/:code`,
 * fuzzed through its path, for a known code. Families:
 *
 * - body: out-of-range and huge numbers (1e308, 2^53+1, -0, 1e309), numbers as strings
 *   ("NaN", "Infinity"), wrong types, missing, extra and duplicated fields, arrays where
 *   objects belong, 10,000 levels of nesting, malformed JSON, 1 MB bodies (sized and
 *   chunked), wrong or missing Content-Type, bogus Content-Encoding, a gzip bomb;
 * - query (the paged lists, routes/lists.ts): a bad or repeated `limit` or `cursor`
 *   (random, garbage, another list's, respelled), an unknown parameter (the old
 *   `offset`), each with its exact answer (400 `ValidationFailed` at the bad parameters);
 *   the same for GET /products/popular's `days` (1..30) and `limit` (1..50), popular.ts;
 * - path: ids that are not ids (signs, decimals, exponents, leading zeros, 2^31, unicode
 *   digits, NUL, lone surrogates, RTL and zero-width marks, encoded slashes, dot
 *   segments), very long ids (up to 12,000 characters, and past the 16 KiB header
 *   limit), extra segments, ids that are well-formed but exist nowhere (404);
 * - headers: bad, duplicated and oversized Idempotency-Key, duplicated Content-Type,
 *   headers over 16 KiB;
 * - method: a method the route does not have (405), one the API has nowhere (501);
 * - protocol: the valid request's bytes with one HTTP/1.1 corruption (NUL, CR or bare LF
 *   in headers, obs-fold, bad or conflicting Content-Length / Transfer-Encoding, bad
 *   chunk, no Host, unknown Expect, raw 8-bit bytes in the target, an HTTP/2 preface).
 *
 * The families every endpoint shares are in families.ts (body envelope, Idempotency-Key,
 * method, header size), paths.ts (path) and protocol.ts (protocol); endpoint-kit.ts adds
 * the noise, and routes/ holds each route group's own families.
 */
import { endpointKit, type EndpointGenerator, type Fixtures } from './endpoint-kit.ts';
import { concertEndpoints } from './routes/concerts.ts';
import { orderEndpoints } from './routes/orders.ts';
import { pointEndpoints } from './routes/points.ts';
import { problemEndpoints } from './routes/problems.ts';
import { productEndpoints } from './routes/products.ts';
import { queueEndpoints } from './routes/queue.ts';
import { reservationEndpoints } from './routes/reservations.ts';

/** Builds the generator of every endpoint for the fixtures `fx` and the server at `host`. */
export function endpointGenerators(fx: Fixtures, host: string): EndpointGenerator[] {
  const kit = endpointKit(fx, host);
  const { orders, getOrder, userOrders } = orderEndpoints(kit);
  const { products, popular, getProduct } = productEndpoints(kit);
  const { getPoints, getLedger, topUps } = pointEndpoints(kit);
  const { concerts, getSeats } = concertEndpoints(kit);
  const { reservations, payment, deleteReservation, getReservation } = reservationEndpoints(kit);
  const { joinQueue, getQueueToken, cancelQueueToken } = queueEndpoints(kit);
  const { getProblem } = problemEndpoints(kit);
  return [
    orders, getOrder, userOrders, products, popular, getProduct, getPoints, getLedger, topUps, concerts, getSeats,
    reservations, payment, deleteReservation, getReservation, joinQueue, getQueueToken, cancelQueueToken, getProblem,
  ];
}

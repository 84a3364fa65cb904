/**
 * The request id of the API call that drove a saga, carried as a Temporal header from the
 * API's client (api/temporal.ts) into the workflow (workflows/request-id-interceptors.ts)
 * and on to its activities (worker/request-id.ts), where interceptors put it into every
 * log record's attributes. Independent of tracing: logs carry it whether or not tracing is on.
 */
import { defaultPayloadConverter, type Headers } from '@temporalio/common';

/** Name of the Temporal header holding the request id (a string payload). */
export const REQUEST_ID_HEADER_KEY = 'request-id';

/** Name of the log attribute carrying the request id, as in the API's own log lines. */
export const REQUEST_ID_LOG_ATTRIBUTE = 'requestId';

/** `headers` plus the request id header; `headers` itself when there is no request id. */
export function withRequestId(headers: Headers, requestId: string | undefined): Headers {
  if (requestId === undefined) return headers;
  return { ...headers, [REQUEST_ID_HEADER_KEY]: defaultPayloadConverter.toPayload(requestId) };
}

/** The request id in `headers`, or undefined when absent or not a string. */
export function requestIdOf(headers: Headers | undefined): string | undefined {
  const payload = headers?.[REQUEST_ID_HEADER_KEY];
  if (!payload) return undefined;
  try {
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

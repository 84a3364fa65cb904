/**
 * Answers, as problem details (`application/problem+json`, see problem.ts), the requests
 * Node's HTTP server refuses before they reach Koa. Node's own answers to them are a bare
 * status line with no body, which breaks the promise that every error is problem details:
 *
 * - `clientError`: the parser refused the request (malformed request line or header,
 *   invalid or conflicting Content-Length / Transfer-Encoding, bad chunk): 400
 *   `BadRequest`; request line and headers over the header limit: 431 `HeadersTooLarge`;
 *   a request that did not arrive within the request timeout: 408 `RequestTimeout`.
 * - `checkExpectation`: an `Expect` header other than `100-continue`: 417 `ExpectationFailed`.
 *
 * The `requestId` member is the id generated for the answer's `X-Request-Id` (the
 * request's own header is not trusted from a request the parser refused). `instance` is
 * the request path for `checkExpectation`, and absent for a parser error, whose request
 * line may be the very thing that is malformed.
 *
 * A request without `Host` is refused by the request-context middleware instead (see
 * `requireHostHeader` in server.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../config/logger.ts';
import { ErrorCode } from './errors.ts';
import { REQUEST_ID_HEADER } from './middleware/request-context.ts';
import { PROBLEM_CONTENT_TYPE, problemDetails } from './problem.ts';

/** Status, reason phrase, code and message for a parser error, by its `code`. */
const PARSER_ERRORS: Readonly<Record<string, readonly [number, string, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', ErrorCode.HeadersTooLarge, 'The request line and headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', ErrorCode.PayloadTooLarge, 'The chunk extensions of the body are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', ErrorCode.RequestTimeout, 'The request did not arrive in time'],
};
const BAD_REQUEST = [400, 'Bad Request', ErrorCode.BadRequest, 'The request is not valid HTTP/1.1'] as const;

/** The path of a request target (`/orders?x=1` -> `/orders`); undefined unless origin-form. */
function targetPath(url: string | undefined): string | undefined {
  if (!url?.startsWith('/')) return undefined;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** Installs the `clientError` and `checkExpectation` answers on `server`. */
export function answerProtocolErrors(server: Server, logger: Logger): void {
  // Responses in flight per connection. The parser may fail on a request's body after
  // Koa got the request, or on a pipelined request while an earlier one is answered: an
  // answer may be written only while none of those has started writing, or it would
  // corrupt that response (Node's default handler makes the same check on private fields).
  const responses = new WeakMap<Duplex, Set<ServerResponse>>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const open = responses.get(socket) ?? new Set<ServerResponse>();
    responses.set(socket, open.add(res));
    res.once('close', () => open.delete(res));
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const started = [...(responses.get(socket) ?? [])].some((res) => res.headersSent);
    if (err.code === 'ECONNRESET' || !socket.writable || started) {
      socket.destroy();
      return;
    }
    const [status, reason, code, message] = PARSER_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
    const requestId = randomUUID();
    const body = JSON.stringify(problemDetails({ status, code, detail: message, requestId }));
    logger.info({ requestId, status, parserError: err.code }, 'malformed request refused');
    socket.end(
      [
        `HTTP/1.1 ${status} ${reason}`,
        `${REQUEST_ID_HEADER}: ${requestId}`,
        // No charset parameter: JSON is UTF-8 by definition, and the app's answers have none either.
        `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });

  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    logger.info({ requestId, method: req.method, path: req.url, status: 417 }, 'unsupported Expect refused');
    const body = JSON.stringify(
      problemDetails({
        status: 417,
        code: ErrorCode.ExpectationFailed,
        detail: 'Only "Expect: 100-continue" is supported',
        instance: targetPath(req.url),
        requestId,
      }),
    );
    res.writeHead(417, { [REQUEST_ID_HEADER]: requestId, 'Content-Type': PROBLEM_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/**
 * Problem type documentation: the target of the `type` URI of every problem answer.
 *
 * `GET /problems/:code`: 200 {@link ProblemTypeDocument}
 * `{ type, code, title, status, statuses, description }` for a code of `problemTypes`
 * (api/problem.ts); 404 `NotFound` for any other code.
 */
import type { AppRouter } from '../context.ts';
import { notFound } from '../errors.ts';
import type { ProblemTypeDocument } from './schemas.ts';
import { problemTypeDocument } from './views.ts';

/** What an unknown code may look like to be echoed in the 404's `detail`. */
const ECHOABLE_CODE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** Registers `GET /problems/:code`. */
export function registerProblemRoutes(router: AppRouter): void {
  router.get<object, object, ProblemTypeDocument>('/problems/:code', (ctx) => {
    const code = ctx.params['code'] ?? '';
    const document = problemTypeDocument(code);
    // Arbitrary path text is not repeated back beyond what a code can look like.
    if (!document) throw notFound(ECHOABLE_CODE.test(code) ? `problem type ${code}` : 'such problem type');
    ctx.body = document;
  });
}

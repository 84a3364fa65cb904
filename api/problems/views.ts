/** The documentation of each problem type, as its type URI (`/problems/<code>`) serves it. */
import { problemTypeUri } from '../problem.ts';
import { isProblemCode, problemTypes } from '../problem-types.ts';
import type { ProblemTypeDocument } from './schemas.ts';

/** The documentation of `code` as served at its type URI; undefined for an unknown code. */
export function problemTypeDocument(code: string): ProblemTypeDocument | undefined {
  if (!isProblemCode(code)) return undefined;
  const { statuses, title, description } = problemTypes[code];
  return { type: problemTypeUri(code), code, title, status: statuses[0], statuses: [...statuses], description };
}

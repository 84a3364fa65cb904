/** The documented problem type route (handler: problems/routes.ts). */
import { z } from 'zod';
import { jsonAnswer, route, type DocumentedRoute } from '../openapi/operation.ts';
import { problemTypeDocumentSchema } from './schemas.ts';

/** The problem type route. */
export const problemRoutes: DocumentedRoute[] = [
  route('get', '/problems/:code', {
    access: 'public',
    operationId: 'getProblemType',
    tag: 'Problems',
    summary: 'Documentation of a problem type',
    description: 'The target of the `type` URI (`/problems/<code>`) of every problem answer. Every problem type is listed in the description of this tag and in the document\'s `x-problem-types`.',
    params: { path: z.object({ code: z.string().meta({ description: 'The problem code, e.g. `OutOfStock`.' }) }) },
    answers: { 200: jsonAnswer(problemTypeDocumentSchema, 'The problem type.') },
    problems: { 404: ['NotFound'] },
  }),
];

/** Response schema of the problem type route (`GET /problems/:code`); the body type is inferred from it. */
import { z } from 'zod';

/** The `GET /problems/:code` document of a problem type; zod-openapi makes it the `ProblemType` component. */
export const problemTypeDocumentSchema = z
  .object({
    type: z.string().meta({ description: 'The type URI, `/problems/<code>`.' }),
    code: z.string(),
    title: z.string(),
    status: z.int().min(400).max(599).meta({ description: 'The HTTP status this problem is usually answered with.' }),
    statuses: z.array(z.int().min(400).max(599)).meta({ description: 'Every HTTP status this problem is answered with.' }),
    description: z.string(),
  })
  .meta({ id: 'ProblemType', description: 'Documentation of one problem type, the target of a problem `type` URI.' });

/** Body of `GET /problems/:code`. */
export type ProblemTypeDocument = z.infer<typeof problemTypeDocumentSchema>;

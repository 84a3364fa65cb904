/** Response schema of `GET /healthz`; the body type is inferred from it. */
import { z } from 'zod';

/** State of one dependency. */
export const CheckStateSchema = z.enum(['ok', 'unavailable']);

/** State of one dependency. */
export type CheckState = z.output<typeof CheckStateSchema>;

/** Body of `GET /healthz`, 200 and 503 alike. */
export const HealthSchema = z
  .object({
    status: CheckStateSchema.meta({ description: '`ok` when every check is ok (200), else `unavailable` (503).' }),
    checks: z.object({
      database: CheckStateSchema.meta({ description: 'PostgreSQL answered `select 1` within 2 s.' }),
      temporal: CheckStateSchema.meta({ description: 'Temporal answered GetSystemInfo within 2 s.' }),
    }),
  })
  .meta({ id: 'Health', description: 'Whether the API can reach its dependencies.' });

/** Body of `GET /healthz`. */
export type HealthBody = z.output<typeof HealthSchema>;

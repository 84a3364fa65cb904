/**
 * `npm run openapi [-- --check]`: writes the API's OpenAPI 3.1 document, generated from the
 * route table and zod schemas (api/openapi/document.ts), to `openapi.json` at the
 * repository root, byte for byte what `GET /openapi.json` serves (2-space indentation,
 * stable key order, final newline).
 *
 * With `--check` it writes nothing and exits 1 when the committed file differs from the
 * generated document (it is stale: run `npm run openapi` and commit the result), 0 when
 * it is current.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openApiJson } from '../api/openapi/document.ts';

/** Where the committed document lives. */
export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

/** Whether `file` holds exactly the generated document. */
export async function isCurrent(file = OPENAPI_FILE): Promise<boolean> {
  const committed = await readFile(file, 'utf8').catch(() => undefined);
  return committed === openApiJson();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  if (values.check) {
    if (await isCurrent()) {
      console.log('openapi.json is current');
      return;
    }
    console.error('openapi.json is stale: run npm run openapi and commit it');
    process.exitCode = 1;
    return;
  }
  await writeFile(OPENAPI_FILE, openApiJson());
  console.log(`wrote ${OPENAPI_FILE}`);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error('openapi failed:', err);
    process.exit(2);
  });
}

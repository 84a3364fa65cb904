/**
 * Prints the absolute path of a `temporal` CLI on stdout, building one into
 * `.tools/bin` first if needed (see {@link findTemporalCli}). Progress goes to stderr,
 * so `TEMPORAL_CLI_PATH="$(node scripts/ensure-temporal-cli.ts)"` works. Exits 1 with
 * installation instructions when no CLI can be found or built.
 */
import { loadConfig } from '../config/index.ts';
import { findTemporalCli } from './temporal-cli.ts';

try {
  const config = loadConfig();
  process.stdout.write(`${await findTemporalCli({ cliPath: config.temporal.cliPath })}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}

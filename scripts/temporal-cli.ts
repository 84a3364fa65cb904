/**
 * Locates (or, as a last resort, builds) the `temporal` CLI that runs the local
 * Temporal dev server, so that `npm start`, `npm test` and `.ci/run` work on a machine
 * without Docker or a pre-installed Temporal.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import which from 'which';
import { atLeast, exeName, goInstall, goVersion, isExecutable } from './go-install.ts';

/** Module path of the CLI, pinned so every machine runs the same dev server. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** Oldest Go toolchain that builds {@link TEMPORAL_CLI_MODULE}, as [major, minor]. */
export const MIN_GO_VERSION: readonly [number, number] = [1, 25];

/** Root of this repository (the folder holding package.json). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/** Options of {@link findTemporalCli}. */
export type FindTemporalCliOptions = {
  /** An explicit binary (`config.temporal.cliPath`, i.e. `$TEMPORAL_CLI_PATH`); used as-is, never replaced. */
  cliPath?: string | undefined;
  /** Repository root whose `.tools/bin` holds the cached build. Default {@link REPO_ROOT}. */
  repoRoot?: string;
  /** Build with `go install` when nothing is found. Default `true`. */
  build?: boolean;
  /** Receives human-readable progress lines. Default: write them to stderr. */
  progress?: (message: string) => void;
};

/**
 * Returns the absolute path of a usable `temporal` binary, looking in this order:
 * 1. `cliPath` (from `$TEMPORAL_CLI_PATH`);
 * 2. `temporal` on `PATH`;
 * 3. the cached build `<repo>/.tools/bin/temporal` (git-ignored);
 * 4. a fresh `go install` of {@link TEMPORAL_CLI_MODULE} into `<repo>/.tools/bin`, when
 *    `go version` reports Go >= 1.25. This takes several minutes; progress is reported.
 *
 * @throws Error when `cliPath` is set but not an executable file.
 * @throws Error explaining how to install the CLI (Homebrew, Temporal's install script
 *   or Docker Compose) when none is found and none can be built.
 * @throws Error when `go install` fails (its output has been shown as progress).
 */
export async function findTemporalCli(opts: FindTemporalCliOptions = {}): Promise<string> {
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const progress = opts.progress ?? ((m: string) => process.stderr.write(`${m}\n`));

  if (opts.cliPath) {
    const explicit = path.resolve(opts.cliPath);
    if (!(await isExecutable(explicit))) {
      throw new Error(`TEMPORAL_CLI_PATH is set to ${explicit}, which is not an executable file.`);
    }
    return explicit;
  }

  const onPath = await which('temporal', { nothrow: true });
  if (onPath) return onPath;

  const binDir = path.join(repoRoot, '.tools', 'bin');
  const cached = path.join(binDir, exeName('temporal'));
  if (await isExecutable(cached)) return cached;

  const go = await goVersion();
  if (opts.build === false || !go || !atLeast(go, MIN_GO_VERSION)) {
    throw new Error(installHint(go, opts.build === false));
  }
  await buildCli(binDir, go, progress);
  if (!(await isExecutable(cached))) {
    throw new Error(`go install finished but ${cached} is missing.\n${installHint(go, false)}`);
  }
  return cached;
}

/** Builds the CLI into `binDir` with `go install` (progress and Go's output on stderr). */
async function buildCli(binDir: string, go: readonly [number, number], progress: (m: string) => void) {
  await mkdir(binDir, { recursive: true });
  progress(
    `Building the Temporal CLI (${TEMPORAL_CLI_MODULE}) with Go ${go.join('.')} into ${binDir}; ` +
      'this takes a few minutes the first time and is cached afterwards.',
  );
  await goInstall([TEMPORAL_CLI_MODULE], binDir, 'the Temporal CLI', progress);
}

function installHint(go: readonly [number, number] | undefined, buildDisabled: boolean): string {
  const goLine = buildDisabled
    ? 'Building from source was disabled.'
    : go
      ? `Go ${go.join('.')} is too old to build it (needs Go >= ${MIN_GO_VERSION.join('.')}).`
      : `Go >= ${MIN_GO_VERSION.join('.')} is not installed, so it cannot be built from source.`;
  return [
    'No Temporal CLI found (checked $TEMPORAL_CLI_PATH, PATH and .tools/bin/temporal).',
    goLine,
    'Install one of these ways, then run the command again:',
    '  - Homebrew (macOS/Linux):  brew install temporal',
    '  - Temporal install script: curl -sSf https://temporal.download/cli.sh | sh',
    '    (then add ~/.temporalio/bin to PATH, or set TEMPORAL_CLI_PATH)',
    `  - Go >= ${MIN_GO_VERSION.join('.')}:               GOBIN="$PWD/.tools/bin" go install ${TEMPORAL_CLI_MODULE}`,
    '  - or run the whole stack in containers instead: docker compose up',
  ].join('\n');
}

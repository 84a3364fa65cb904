/**
 * Locates (or, as a last resort, builds with Go) the binaries of the real Temporal server
 * that `npm run temporal:cluster` runs on PostgreSQL: `temporal-server` and
 * `temporal-sql-tool`, both of {@link TEMPORAL_SERVER_VERSION}, the release that
 * docker-compose.yml runs as images. The lookup chain is scripts/temporal-cli.ts's.
 *
 * Run as a script (`node scripts/temporal-server.ts`, as .ci/run does before the suites)
 * it finds or builds both and prints their paths, one a line; progress goes to stderr.
 */
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import which from 'which';
import { atLeast, exeName, goInstall, goVersion, isExecutable } from './go-install.ts';
import { REPO_ROOT } from './temporal-cli.ts';

/**
 * The Temporal server release of this project, in one place: the local cluster builds it
 * and docker-compose.yml's `temporalio/server` and `temporalio/admin-tools` images carry
 * it as their tag (test/unit/temporal-cluster.test.ts checks).
 */
export const TEMPORAL_SERVER_VERSION = '1.30.4';

/** The Go packages of the two binaries, built by one `go install` (same module and version). */
export const TEMPORAL_SERVER_PACKAGES: readonly string[] = [
  `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
  `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
];

/** Oldest Go toolchain that builds {@link TEMPORAL_SERVER_VERSION} (its go.mod says 1.25.8), as [major, minor]. */
export const MIN_SERVER_GO_VERSION: readonly [number, number] = [1, 25];

/** Paths of the two binaries. */
export type TemporalServerBinaries = {
  /** `temporal-server` (`start`, `--config-file`). */
  server: string;
  /** `temporal-sql-tool` (`create`, `setup-schema`, `update-schema`). */
  sqlTool: string;
};

/** Options of {@link findTemporalServer}. */
export type FindTemporalServerOptions = {
  /** An explicit `temporal-server` (`config.temporal.serverPath`, `$TEMPORAL_SERVER_PATH`); used as-is. */
  serverPath?: string | undefined;
  /** An explicit `temporal-sql-tool` (`config.temporal.sqlToolPath`, `$TEMPORAL_SQL_TOOL_PATH`); used as-is. */
  sqlToolPath?: string | undefined;
  /** Repository root whose `.tools/bin` holds the cached build. Default {@link REPO_ROOT}. */
  repoRoot?: string;
  /** Build with `go install` when a binary is not found. Default `true`. */
  build?: boolean;
  /** Receives human-readable progress lines. Default: write them to stderr. */
  progress?: (message: string) => void;
};

/** Binary names: what `go install` produces, and the name it is kept under. */
const BINARIES = [
  { key: 'server', built: 'server', name: 'temporal-server', variable: 'TEMPORAL_SERVER_PATH' },
  { key: 'sqlTool', built: 'sql', name: 'temporal-sql-tool', variable: 'TEMPORAL_SQL_TOOL_PATH' },
] as const;

/**
 * Returns the absolute paths of `temporal-server` and `temporal-sql-tool`, each looked up
 * in this order:
 * 1. the explicit path (`$TEMPORAL_SERVER_PATH`, `$TEMPORAL_SQL_TOOL_PATH`);
 * 2. the name on `PATH`;
 * 3. the cached build `<repo>/.tools/bin/<name>` (git-ignored);
 * 4. one `go install` of {@link TEMPORAL_SERVER_PACKAGES} into a temporary folder of
 *    `.tools/`, the binaries then renamed into `.tools/bin` (so an interrupted build
 *    leaves no half-written binary behind). Needs Go >= 1.25; takes several minutes on a
 *    cold Go cache, progress is reported. Both binaries come from the same build.
 *
 * A binary found on PATH or given explicitly is not checked for its version.
 *
 * @throws Error when an explicit path is not an executable file.
 * @throws Error explaining how to get the binaries when one is missing and cannot be built.
 * @throws Error when `go install` fails (its output went to stderr).
 */
export async function findTemporalServer(opts: FindTemporalServerOptions = {}): Promise<TemporalServerBinaries> {
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const progress = opts.progress ?? ((m: string) => process.stderr.write(`${m}\n`));
  const binDir = path.join(repoRoot, '.tools', 'bin');
  const explicit = { server: opts.serverPath, sqlTool: opts.sqlToolPath };

  const found: Partial<TemporalServerBinaries> = {};
  for (const b of BINARIES) {
    const given = explicit[b.key];
    if (given) {
      const file = path.resolve(given);
      if (!(await isExecutable(file))) throw new Error(`${b.variable} is set to ${file}, which is not an executable file.`);
      found[b.key] = file;
      continue;
    }
    const onPath = await which(b.name, { nothrow: true });
    const cached = path.join(binDir, exeName(b.name));
    found[b.key] = onPath ?? ((await isExecutable(cached)) ? cached : undefined);
  }
  if (found.server && found.sqlTool) return { server: found.server, sqlTool: found.sqlTool };

  const go = await goVersion();
  if (opts.build === false || !go || !atLeast(go, MIN_SERVER_GO_VERSION)) {
    throw new Error(installHint(go, opts.build === false));
  }
  await buildServer(repoRoot, binDir, go, progress);
  for (const b of BINARIES) {
    const cached = path.join(binDir, exeName(b.name));
    if (!found[b.key]) {
      if (!(await isExecutable(cached))) throw new Error(`go install finished but ${cached} is missing.`);
      found[b.key] = cached;
    }
  }
  return { server: found.server!, sqlTool: found.sqlTool! };
}

/**
 * Runs `go install` of both packages with GOBIN set to a fresh folder under `.tools/`,
 * Go's output on stderr and a heartbeat to `progress`, then renames the binaries into
 * `binDir` under their released names.
 */
async function buildServer(repoRoot: string, binDir: string, go: readonly [number, number], progress: (m: string) => void) {
  await mkdir(binDir, { recursive: true });
  // Under .tools/, on the same file system as binDir, so the rename below is atomic.
  const gobin = await mkdtemp(path.join(repoRoot, '.tools', 'build-temporal-server-'));
  progress(
    `Building the Temporal server ${TEMPORAL_SERVER_VERSION} (temporal-server, temporal-sql-tool) with Go ${go.join('.')} ` +
      `into ${binDir}; this takes several minutes the first time and is cached afterwards.`,
  );
  try {
    await goInstall(TEMPORAL_SERVER_PACKAGES, gobin, 'the Temporal server', progress);
    for (const b of BINARIES) await rename(path.join(gobin, exeName(b.built)), path.join(binDir, exeName(b.name)));
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
}

function installHint(go: readonly [number, number] | undefined, buildDisabled: boolean): string {
  const min = MIN_SERVER_GO_VERSION.join('.');
  const goLine = buildDisabled
    ? 'Building from source was disabled.'
    : go
      ? `Go ${go.join('.')} is too old to build them (needs Go >= ${min}).`
      : `Go >= ${min} is not installed, so they cannot be built from source.`;
  return [
    'No temporal-server / temporal-sql-tool found (checked $TEMPORAL_SERVER_PATH, $TEMPORAL_SQL_TOOL_PATH, PATH and .tools/bin).',
    goLine,
    'Get them one of these ways, then run the command again:',
    `  - Go >= ${min}: install Go, and this command builds them into .tools/bin`,
    `  - a release archive of Temporal ${TEMPORAL_SERVER_VERSION} (temporal-server and temporal-sql-tool), then set`,
    '    TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH',
    '  - or run the server in containers instead: docker compose up (docker-compose.yml)',
  ].join('\n');
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../config/index.ts');
  const { temporal } = loadConfig();
  const found = await findTemporalServer({ serverPath: temporal.serverPath, sqlToolPath: temporal.sqlToolPath });
  process.stdout.write(`${found.server}\n${found.sqlTool}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

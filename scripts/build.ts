/**
 * `npm run build`: the production build in dist/.
 * 1. tsc with tsconfig.build.json compiles every runtime folder (not test/) to JavaScript,
 *    relative `.ts` imports rewritten to `.js`, so `node dist/api/server.js` runs without
 *    type stripping;
 * 2. the workflows are bundled once with `bundleWorkflowCode` into dist/workflow-bundle.js,
 *    which the compiled worker loads instead of bundling at every start (worker/worker.ts),
 *    and once more with the tracing interceptors into dist/workflow-bundle-tracing.js,
 *    which it loads instead when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT).
 * The runtime image needs dist/, package.json and the production node_modules, nothing else.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../config/logger.ts';
import { temporalLoggerFrom, workflowInterceptorModules } from '../worker/worker.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Where `npm run build` writes; git-ignored. */
export const DIST_DIR = path.join(ROOT, 'dist');
/** The prebuilt workflow bundle; worker/worker.ts finds it as `../workflow-bundle.js` of dist/worker/. */
export const WORKFLOW_BUNDLE_FILE = path.join(DIST_DIR, 'workflow-bundle.js');
/** The prebuilt bundle with the tracing interceptors; worker/worker.ts finds it as `../workflow-bundle-tracing.js`. */
export const TRACING_WORKFLOW_BUNDLE_FILE = path.join(DIST_DIR, 'workflow-bundle-tracing.js');

/** Builds dist/ from scratch. @throws Error when tsc reports errors or bundling fails. */
export async function build(log = createLogger(loadConfig(), 'build')): Promise<void> {
  await rm(DIST_DIR, { recursive: true, force: true });

  let started = Date.now();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (compiled.status !== 0) throw new Error(`tsc failed (exit ${compiled.status ?? compiled.signal})`);
  log.info({ outDir: DIST_DIR, ms: Date.now() - started }, 'compiled');

  await mkdir(DIST_DIR, { recursive: true });
  for (const [file, tracing] of [[WORKFLOW_BUNDLE_FILE, false], [TRACING_WORKFLOW_BUNDLE_FILE, true]] as const) {
    started = Date.now();
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(ROOT, 'workflows', 'index.ts'),
      workflowInterceptorModules: workflowInterceptorModules(tracing),
      logger: temporalLoggerFrom(log),
    });
    await writeFile(file, code);
    const { size } = await stat(file);
    log.info({ file, bytes: size, ms: Date.now() - started }, 'workflow bundle written');
  }
}

if (import.meta.main) {
  try {
    await build();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}

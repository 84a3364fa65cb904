/**
 * The Go side of the binary lookups (scripts/temporal-cli.ts for the CLI,
 * scripts/temporal-server.ts for the real server and its SQL tool): the Go version, the
 * `go install` with a heartbeat, and the small file checks both share.
 */
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The [major, minor] of `go version`, or `undefined` when Go is not installed or unreadable. */
export async function goVersion(): Promise<[number, number] | undefined> {
  try {
    const { stdout } = await execFileAsync('go', ['version'], { timeout: 30_000 });
    const m = /go(\d+)\.(\d+)/.exec(stdout.replace(/^go version /, ''));
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  } catch {
    return undefined;
  }
}

/** Whether Go version `v` is `min` or newer (both [major, minor]). */
export function atLeast(v: readonly [number, number], min: readonly [number, number]): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

/** Whether `file` exists and may be executed (exists, on Windows). */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A binary's file name on this platform (`.exe` on Windows). */
export function exeName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

/**
 * Runs `go install <packages>` with `GOBIN=gobin`, Go's output on this process's stderr
 * (so stdout stays clean for callers that capture it) and a line to `progress` every
 * 30 s and at the end, naming `what` ("the Temporal CLI").
 *
 * @throws Error when `go` cannot be started or exits non-zero.
 */
export async function goInstall(packages: readonly string[], gobin: string, what: string, progress: (m: string) => void): Promise<void> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  const heartbeat = setInterval(() => progress(`  still building ${what} (${seconds()} s)...`), 30_000);
  try {
    const child = spawn('go', ['install', ...packages], { env: { ...process.env, GOBIN: gobin }, stdio: ['ignore', 2, 2] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, signal) => resolve(signal ? null : c));
    });
    if (code !== 0) throw new Error(`go install ${packages.join(' ')} failed (exit ${code ?? 'by signal'}).`);
    progress(`Built ${what} in ${seconds()} s.`);
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * The Node.js version check (scripts/preflight.cjs) that the npm scripts run before any
 * TypeScript: one line on stderr and exit 1 on a Node older than 22.18, silence otherwise,
 * and package.json saying the same.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { REPO_ROOT } from '../../scripts/temporal-cli.ts';

const PREFLIGHT = path.join(REPO_ROOT, 'scripts', 'preflight.cjs');
const { MIN_NODE, checkNodeVersion } = createRequire(import.meta.url)(PREFLIGHT) as {
  MIN_NODE: [number, number];
  checkNodeVersion: (version: string) => { ok: boolean; message: string | undefined };
};

/** Runs the preflight as the npm scripts do, with `version` in place of the running Node's. */
function runPreflight(version?: string) {
  const r = spawnSync(process.execPath, [PREFLIGHT, ...(version ? [version] : [])], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('preflight', () => {
  test('on Node 20 prints one line with the needed and found versions and how to get Node, and exits 1', () => {
    const r = runPreflight('20.20.2');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toBe(
      'This project needs Node.js >= 22.18 but found v20.20.2; get one with: ' +
        'npm install --prefix .tools/node node@24 && export PATH="$PWD/.tools/node/node_modules/.bin:$PATH"' +
        ' (or: nvm install 24, fnm use --install-if-missing 24)',
    );
  });

  test('is silent and exits 0 on the running Node and on 22.18', () => {
    expect(runPreflight()).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(runPreflight('22.18.0')).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  test('draws the line at 22.18', () => {
    expect(checkNodeVersion('v22.17.1').ok).toBe(false);
    expect(checkNodeVersion('22.18.0').ok).toBe(true);
    expect(checkNodeVersion('24.0.0').ok).toBe(true);
    expect(checkNodeVersion('v8.17.0').ok).toBe(false);
    expect(checkNodeVersion('garbage').ok).toBe(false);
  });

  test("package.json's engines.node and scripts agree with it", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
      scripts: Record<string, string>;
    };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE.join('.')}`);
    // Every script that runs TypeScript with node checks the version first.
    for (const [name, command] of Object.entries(pkg.scripts)) {
      if (/\bnode\b.*\.ts\b|jest/.test(command)) {
        expect({ name, command }).toEqual({ name, command: expect.stringMatching(/^node scripts\/preflight\.cjs && /) });
      }
    }
    expect(readFileSync(path.join(REPO_ROOT, '.npmrc'), 'utf8')).toMatch(/^engine-strict=true$/m);
  });
});

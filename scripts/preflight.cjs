/**
 * Node.js version check that every npm script running TypeScript runs first
 * (`node scripts/preflight.cjs && node scripts/start-all.ts`). The sources run through
 * Node's type stripping, on by default since Node 22.18 (which also brings
 * `import.meta.main`); an older Node would fail with a syntax error deep in some module.
 * This file instead prints one line (the version needed, the one found, how to get one)
 * on stderr and exits 1.
 *
 * Plain CommonJS in ES5 syntax on purpose, so that even a very old Node can run it.
 *
 * Usage: `node scripts/preflight.cjs [version]`; `version` (e.g. `20.11.1`) replaces the
 * running Node's, for tests.
 */
'use strict';

/** Oldest supported Node.js, as [major, minor]; package.json's `engines.node` says the same. */
var MIN_NODE = [22, 18];

/** How to get a recent enough Node.js without touching the system's. */
var HOW_TO_GET =
  'npm install --prefix .tools/node node@24 && export PATH="$PWD/.tools/node/node_modules/.bin:$PATH"' +
  ' (or: nvm install 24, fnm use --install-if-missing 24)';

/**
 * Checks a Node.js version string (`22.18.0` or `v22.18.0`).
 *
 * @param {string} version
 * @returns {{ ok: boolean, message: string | undefined }} `message` is the one line to
 *   print when `ok` is false.
 */
function checkNodeVersion(version) {
  var m = /^v?(\d+)\.(\d+)/.exec(String(version));
  var major = m ? Number(m[1]) : 0;
  var minor = m ? Number(m[2]) : 0;
  var ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  if (ok) return { ok: true, message: undefined };
  return {
    ok: false,
    message:
      'This project needs Node.js >= ' + MIN_NODE.join('.') + ' but found ' +
      String(version).replace(/^v?/, 'v') + '; get one with: ' + HOW_TO_GET,
  };
}

module.exports = { MIN_NODE: MIN_NODE, checkNodeVersion: checkNodeVersion };

if (require.main === module) {
  var result = checkNodeVersion(process.argv[2] || process.versions.node);
  if (!result.ok) {
    process.stderr.write(result.message + '\n');
    process.exitCode = 1;
  }
}

/**
 * docker-compose.yml and the Dockerfile, checked without Docker: the compose file is valid
 * against the Compose Specification JSON schema (vendored in test/fixtures/compose-spec/)
 * and consistent with the code: every variable the service's containers get is one that
 * config/index.ts reads (and parses), the commands run files the build produces, the worker
 * runs two replicas, every published port is health-checked or waits on a condition, and
 * `temporal-setup` registers exactly the dev server's search attributes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { CONFIG_ENV_KEYS, loadConfig } from '../../config/index.ts';
import { SEARCH_ATTRIBUTES } from '../../scripts/temporal-dev-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

type Service = {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: unknown[];
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  deploy?: { replicas?: number | string };
  restart?: string;
};
type ComposeFile = { services: Record<string, Service> };

let compose: ComposeFile;
let validateCompose: ValidateFunction;

beforeAll(async () => {
  // Compose resolves YAML merge keys (`<<: *anchor`), so the checks see the merged services.
  compose = parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
  const schema = JSON.parse(await readFile(path.join(ROOT, 'test/fixtures/compose-spec/compose-spec.json'), 'utf8'));
  // The schema names its draft-07 meta-schema by an https URL that Ajv does not know, and
  // its `type` style (unions, keywords without a type) only makes Ajv's strictTypes warn.
  validateCompose = new Ajv({ allErrors: true, validateSchema: false, strictTypes: false }).compile(schema);
});

/** The services built from this repository's Dockerfile: the API, worker, data platform, db-setup. */
function appServices(): [string, Service][] {
  return Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => {
        const i = line.indexOf('=');
        return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
      })
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries);
}

/** Compose's interpolation as it goes with no variable set: `${X:-default}` -> `default`. */
function interpolateDefaults(value: string): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
}

function dependsOn(service: Service): Record<string, { condition?: string }> {
  const d = service.depends_on ?? {};
  return Array.isArray(d) ? Object.fromEntries(d.map((name) => [name, {}])) : d;
}

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification schema', () => {
    const valid = validateCompose(compose);
    expect(validateCompose.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  test('the schema check is not vacuous: a misspelt service key is rejected', () => {
    expect(validateCompose({ services: { api: { imag: 'x' } } })).toBe(false);
    expect(validateCompose({ services: { api: { deploy: { replicas: [2] } } } })).toBe(false);
  });

  test('the service runs as the API, the worker, the mock data platform and db-setup, all from one image', () => {
    const commands = Object.fromEntries(appServices().map(([name, s]) => [name, [s.command].flat().join(' ')]));
    expect(commands).toEqual({
      'db-setup': 'node dist/scripts/db-setup.js',
      'data-platform': 'node dist/data-platform/main.js',
      worker: 'node dist/worker/main.js',
      api: 'node dist/api/server.js',
    });
    expect(new Set(appServices().map(([, s]) => s.image)).size).toBe(1);
  });

  test('every command runs a file that `npm run build` compiles from a source file here', async () => {
    const build = JSON.parse(await readFile(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const [, service] of appServices()) {
      const script = [service.command].flat().find((a) => a?.startsWith('dist/'));
      expect(script).toMatch(/^dist\/.+\.js$/);
      const source = script!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(path.join(ROOT, source))).toBe(true);
      expect(build.include).toContain(source.split('/')[0]);
    }
  });

  test('every environment variable of the service containers is a setting config/index.ts reads', () => {
    const known = new Set(CONFIG_ENV_KEYS);
    for (const [name, service] of appServices()) {
      const unknown = Object.keys(environmentOf(service)).filter((k) => !known.has(k));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  test("every service container's environment parses with loadConfig", () => {
    for (const [name, service] of appServices()) {
      const env = Object.fromEntries(Object.entries(environmentOf(service)).map(([k, v]) => [k, interpolateDefaults(v)]));
      expect(() => loadConfig(env)).not.toThrow();
      if (name !== 'data-platform') {
        const config = loadConfig(env);
        expect(config.temporal.address).toBe('temporal:7233');
        expect(new URL(config.database.url).host).toBe('postgres:5432');
        expect(new URL(config.dataPlatform.url).host).toBe('data-platform:4100');
      }
    }
  });

  test('runs two worker replicas', () => {
    const workers = appServices().filter(([, s]) => [s.command].flat().includes('dist/worker/main.js'));
    const replicas = workers.reduce((n, [, s]) => n + Number(s.deploy?.replicas ?? 1), 0);
    expect(replicas).toBe(2);
  });

  test('every service with a published port has a health check or starts after a condition', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.ports?.length) continue;
      const healthChecked = service.healthcheck !== undefined && service.healthcheck.disable !== true;
      const waits = Object.values(dependsOn(service)).some((d) => d.condition !== undefined);
      expect({ service: name, checkedOrWaits: healthChecked || waits }).toEqual({ service: name, checkedOrWaits: true });
    }
  });

  test('conditions name services that can meet them', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [target, { condition }] of Object.entries(dependsOn(service))) {
        const other = compose.services[target];
        expect({ service: name, dependsOn: target, exists: other !== undefined }).toEqual({ service: name, dependsOn: target, exists: true });
        if (condition === 'service_healthy') expect(other?.healthcheck?.test).toBeDefined();
        if (condition === 'service_completed_successfully') expect(other?.restart).toBe('no');
      }
    }
  });

  test('temporal-setup registers exactly the search attributes of the dev server', () => {
    const setup = compose.services['temporal-setup'];
    expect(setup).toBeDefined();
    const registered = environmentOf(setup!).SEARCH_ATTRIBUTES?.trim().split(/\s+/) ?? [];
    expect([...registered].sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
    for (const sa of registered) expect(sa).toMatch(/^[A-Za-z][A-Za-z0-9]*=(Keyword|KeywordList|Text|Int|Double|Bool|Datetime)$/);
    expect([setup!.command].flat().join('\n')).toContain('search-attribute create');
  });
});

describe('Dockerfile', () => {
  test('sets only variables config/index.ts reads, runs as node, and starts from dist/', async () => {
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
    const envKeys = lines
      .filter((l) => /^ENV\s/.test(l))
      .flatMap((l) => [...l.slice(4).matchAll(/(\w+)=/g)].map((m) => m[1]!));
    expect(envKeys.length).toBeGreaterThan(0);
    expect(envKeys.filter((k) => !CONFIG_ENV_KEYS.includes(k))).toEqual([]);
    expect(lines).toContain('USER node');
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/api\/server\.js"\]$/m);
  });
});

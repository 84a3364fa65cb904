/**
 * docker-compose.yml and the Dockerfile, checked without Docker: the compose file is valid
 * against the Compose Specification JSON schema (vendored in test/fixtures/compose-spec/)
 * and consistent with the code: every variable the service's containers get is one that
 * config/index.ts reads (and parses), the commands run files the build produces, the worker
 * runs two replicas, every published port is health-checked or waits on a condition,
 * `temporal-setup` registers exactly the dev server's search attributes, and only the API
 * and the Temporal Web UI are published to the host, on 127.0.0.1: PostgreSQL, the
 * Temporal frontend, the data platform and the metrics endpoints stay on the compose network.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { assertApiAuthSettings, CONFIG_ENV_KEYS, loadConfig } from '../../config/index.ts';
import { SEARCH_ATTRIBUTES } from '../../scripts/temporal-dev-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

type Service = {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: unknown[];
  expose?: (string | number)[];
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

/**
 * Variables compose requires from the host (`${X:?message}`: `docker compose up` refuses
 * to start without them), and the stand-in values these checks give them.
 */
const REQUIRED_FROM_HOST: Record<string, string> = { IDEMPOTENCY_SECRET: 'f'.repeat(64) };

/**
 * Compose's interpolation as it goes with no variable set: `${X:-default}` -> `default`,
 * a required `${X:?message}` -> its stand-in in {@link REQUIRED_FROM_HOST}.
 * @throws Error for a required variable without a stand-in.
 */
function interpolateDefaults(value: string, host: Record<string, string> = {}): string {
  return value
    .replace(/\$\{(\w+)(?::?[-?][^}]*)?\}/g, (m, name: string) => host[name] ?? m)
    .replace(/\$\{(\w+):?\?[^}]*\}/g, (_m, name: string) => {
      const standIn = REQUIRED_FROM_HOST[name];
      if (standIn === undefined) throw new Error(`compose requires ${name} from the host: give it a stand-in in REQUIRED_FROM_HOST`);
      return standIn;
    })
    .replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
}

/** A published port: the host interface ('' for every interface), the host port, the container port. */
type Published = { hostIp: string; published: string; target: string };

/** Compose's short (`[HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTOCOL]`, or `CONTAINER_PORT`) or long port syntax. */
function publishedPorts(service: Service): Published[] {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry === 'object' && entry !== null) {
      const long = entry as { host_ip?: string; published?: string | number; target: string | number };
      return { hostIp: long.host_ip ?? '', published: String(long.published ?? ''), target: String(long.target) };
    }
    const short = interpolateDefaults(String(entry)).replace(/\/(tcp|udp)$/, '');
    const ipv6 = /^\[([^\]]+)\]:(.*)$/.exec(short);
    const parts = ipv6 ? [ipv6[1]!, ...ipv6[2]!.split(':')] : short.split(':');
    if (parts.length > 3 || (ipv6 && parts.length !== 3)) throw new Error(`unparsed port entry ${String(entry)}`);
    const [target, published = '', hostIp = ''] = [...parts].reverse();
    return { hostIp, published, target: target! };
  });
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

  test('takes the idempotency secret from the host, never a value written in the file', () => {
    for (const [name, service] of appServices()) {
      const secret = environmentOf(service).IDEMPOTENCY_SECRET;
      expect({ service: name, secret }).toEqual({ service: name, secret: expect.stringMatching(/^\$\{IDEMPOTENCY_SECRET:\?[^}$]+\}$/) });
    }
  });

  test('the API trusts the identity provider the host names, and the development issuer only when told twice', () => {
    const api = environmentOf(compose.services.api!);
    const configWith = (host: Record<string, string>) =>
      loadConfig(Object.fromEntries(Object.entries(api).map(([k, v]) => [k, interpolateDefaults(v, host)])));
    expect(() => assertApiAuthSettings(configWith({}))).toThrow(/AUTH_JWKS_URL.*\n.*AUTH_ISSUER.*\n.*AUTH_AUDIENCE/);
    const provider = { AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json', AUTH_ISSUER: 'https://idp.example.com/', AUTH_AUDIENCE: 'sagas-api' };
    const withProvider = configWith(provider);
    expect(() => assertApiAuthSettings(withProvider)).not.toThrow();
    expect(withProvider.auth).toMatchObject({ devIssuer: undefined, jwksUrl: provider.AUTH_JWKS_URL, issuer: provider.AUTH_ISSUER, audience: provider.AUTH_AUDIENCE });
    expect(() => assertApiAuthSettings(configWith({ AUTH_DEV_ISSUER: 'true' }))).toThrow(/AUTH_DEV_ISSUER/);
    expect(() => assertApiAuthSettings(configWith({ AUTH_DEV_ISSUER: 'true', AUTH_DEV_ISSUER_IN_PRODUCTION: 'true' }))).not.toThrow();
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

  test('publishes only the API, the Temporal Web UI and Grafana to the host, all on 127.0.0.1', () => {
    const published = Object.fromEntries(
      Object.entries(compose.services)
        .filter(([, s]) => s.ports?.length)
        .map(([name, s]) => [name, publishedPorts(s)]),
    );
    expect(published).toEqual({
      api: [{ hostIp: '127.0.0.1', published: '3000', target: '3000' }],
      'temporal-ui': [{ hostIp: '127.0.0.1', published: '8080', target: '8080' }],
      grafana: [{ hostIp: '127.0.0.1', published: '3001', target: '3000' }],
    });
  });

  test('keeps PostgreSQL, the Temporal frontend, the data platform and the metrics endpoints on the compose network', () => {
    for (const name of ['postgres', 'temporal', 'data-platform', 'worker']) {
      expect({ service: name, ports: compose.services[name]?.ports }).toEqual({ service: name, ports: undefined });
    }
    expect(compose.services.postgres?.expose).toEqual(['5432']);
    expect(compose.services.temporal?.expose).toEqual(['7233', '8000']);
    expect(compose.services['data-platform']?.expose).toEqual(['4100']);
    // The API's metrics listener is reachable by a scraper on the network, never published.
    const api = compose.services.api!;
    expect(environmentOf(api).API_METRICS_ADDRESS).toBe('0.0.0.0:9465');
    expect(api.expose).toEqual(['9465']);
    expect(publishedPorts(api).map((p) => p.target)).not.toContain('9465');
    expect(compose.services.worker?.expose).toEqual(['9464']);
  });

  test('the port parser reads what it must refuse: every interface, a bare container port, the long syntax', () => {
    expect(publishedPorts({ ports: ['3000:3000', '9465', '${HOST_PORT:-5432}:5432/tcp'] })).toEqual([
      { hostIp: '', published: '3000', target: '3000' },
      { hostIp: '', published: '', target: '9465' },
      { hostIp: '', published: '5432', target: '5432' },
    ]);
    expect(publishedPorts({ ports: ['[::1]:80:80', { target: 7233, published: 7233 }, { target: 8080, host_ip: '127.0.0.1', published: '8080' }] })).toEqual([
      { hostIp: '::1', published: '80', target: '80' },
      { hostIp: '', published: '7233', target: '7233' },
      { hostIp: '127.0.0.1', published: '8080', target: '8080' },
    ]);
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

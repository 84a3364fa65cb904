/**
 * The real Temporal server's settings, checked without starting it: one release for the
 * local build and docker-compose.yml's images, one config template and dynamic config for
 * both (deploy/temporal/), every variable the template reads set by the local start or
 * left to a default on purpose, the cluster's ports clear of each other and of the dev
 * server's, and the search attributes it registers equal to the dev server's.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { clusterPorts, serverEnvironment } from '../../scripts/temporal-cluster.ts';
import { DEPLOY_DIR, databaseParts, sagaSearchAttributeSpecs } from '../../scripts/temporal-cluster-setup.ts';
import { SEARCH_ATTRIBUTES } from '../../scripts/temporal-dev-server.ts';
import { TEMPORAL_SERVER_PACKAGES, TEMPORAL_SERVER_VERSION } from '../../scripts/temporal-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

type Service = { image?: string; environment?: Record<string, unknown>; volumes?: string[]; command?: string[]; entrypoint?: string[] };
let services: Record<string, Service>;
let template: string;

beforeAll(async () => {
  services = (parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;
  template = await readFile(path.join(DEPLOY_DIR, 'config.yaml'), 'utf8');
});

/** The variables deploy/temporal/config.yaml reads (`env "X"`). */
function templateVariables(): Set<string> {
  const code = template.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
  return new Set([...code.matchAll(/env "([A-Z0-9_]+)"/g)].map((m) => m[1]!));
}

const local = serverEnvironment({
  host: '127.0.0.1',
  ports: clusterPorts(7235),
  databases: { url: 'postgres://postgres:secret@127.0.0.1:5432/temporal', visibility: 'temporal_visibility' },
  metricsAddress: '127.0.0.1:9466',
  logLevel: 'warn',
});

describe('the Temporal server release', () => {
  test('docker-compose.yml runs the release the local cluster builds', () => {
    const temporalImages = Object.values(services)
      .map((s) => s.image)
      .filter((image): image is string => /^temporalio\/(server|admin-tools):/.test(image ?? ''));
    expect(temporalImages.sort()).toEqual([
      `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`,
      `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`,
      `temporalio/server:${TEMPORAL_SERVER_VERSION}`,
    ]);
    for (const pkg of TEMPORAL_SERVER_PACKAGES) expect(pkg.endsWith(`@v${TEMPORAL_SERVER_VERSION}`)).toBe(true);
  });
});

describe('one configuration for the local cluster and docker-compose.yml', () => {
  test('compose mounts deploy/temporal and points the server and the schema job at its files', () => {
    const server = services.temporal!;
    const schema = services['temporal-schema']!;
    for (const s of [server, schema]) expect(s.volumes).toContain('./deploy/temporal:/etc/temporal/sagas:ro');
    expect(server.environment?.TEMPORAL_SERVER_CONFIG_FILE_PATH).toBe('/etc/temporal/sagas/config.yaml');
    expect(server.environment?.DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/sagas/dynamicconfig.yaml');
    expect([...(schema.entrypoint ?? []), ...(schema.command ?? [])]).toEqual(['/bin/sh', '/etc/temporal/sagas/schema.sh']);
    expect(local.TEMPORAL_SERVER_CONFIG_FILE_PATH).toBe(path.join(DEPLOY_DIR, 'config.yaml'));
    expect(local.DYNAMIC_CONFIG_FILE_PATH).toBe(path.join(DEPLOY_DIR, 'dynamicconfig.yaml'));
  });

  test('every variable the template reads is set locally, except those meant to keep their default', () => {
    const leftToDefault = ['NUM_HISTORY_SHARDS', 'TEMPORAL_BROADCAST_ADDRESS'];
    const unset = [...templateVariables()].filter((v) => local[v] === undefined);
    expect(unset.sort()).toEqual(leftToDefault.sort());
  });

  test("compose's server sets only variables the template or the server itself reads", () => {
    const own = ['TEMPORAL_SERVER_CONFIG_FILE_PATH', 'TEMPORAL_ALLOW_NO_AUTH'];
    const known = new Set([...templateVariables(), ...own]);
    const unknown = Object.keys(services.temporal!.environment ?? {}).filter((k) => !known.has(k));
    expect(unknown).toEqual([]);
  });

  test('the local server gets its database, ports and metrics address', () => {
    expect(local).toMatchObject({
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: '5432',
      POSTGRES_USER: 'postgres',
      POSTGRES_PWD: 'secret',
      DBNAME: 'temporal',
      VISIBILITY_DBNAME: 'temporal_visibility',
      FRONTEND_GRPC_PORT: '7235',
      PROMETHEUS_ENDPOINT: '127.0.0.1:9466',
      BIND_ON_IP: '127.0.0.1',
    });
    expect(databaseParts({ url: 'postgres://u@db.internal/persist', visibility: 'vis' })).toEqual({
      host: 'db.internal',
      port: '5432',
      user: 'u',
      password: '',
      persistence: 'persist',
      visibility: 'vis',
    });
  });
});

describe('cluster ports', () => {
  test('are nine distinct ports, none of them the dev server default 7233', () => {
    const ports = Object.values(clusterPorts(7235));
    expect(new Set(ports).size).toBe(9);
    expect(ports).not.toContain(7233);
  });

  test("the test cluster's ports (frontend 20 higher) do not overlap the default cluster's", () => {
    const a = new Set(Object.values(clusterPorts(7235)));
    expect(Object.values(clusterPorts(7255)).filter((p) => a.has(p))).toEqual([]);
  });
});

describe('search attributes', () => {
  test("the cluster registers exactly the dev server's (and so compose's) attributes, from common/saga.ts", () => {
    expect(sagaSearchAttributeSpecs().sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
  });
});

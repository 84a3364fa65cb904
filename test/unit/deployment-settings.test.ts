/**
 * Deployment settings: the Temporal connection options that config turns into TLS, mTLS
 * and API-key settings, and which workflow code the worker loads (prebuilt bundle or
 * source).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../config/index.ts';
import { temporalConnectionOptions } from '../../config/temporal.ts';
import { PREBUILT_WORKFLOW_BUNDLE_PATH, WORKFLOWS_PATH, workflowSource } from '../../worker/worker.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sagas-deploy-'));
  await writeFile(path.join(dir, 'client.pem'), 'CERT');
  await writeFile(path.join(dir, 'client.key'), 'KEY');
  await writeFile(path.join(dir, 'ca.pem'), 'CA');
  await writeFile(path.join(dir, 'bundle.js'), '');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Temporal connection options', () => {
  test('are plaintext with only an address by default (dev server, docker-compose)', async () => {
    expect(await temporalConnectionOptions(loadConfig({}).temporal)).toEqual({ address: '127.0.0.1:7233' });
  });

  test('send an API key over TLS with the system roots (Temporal Cloud)', async () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: 'secret' });
    expect(await temporalConnectionOptions(config.temporal)).toEqual({
      address: 'eu-west-1.aws.api.temporal.io:7233',
      apiKey: 'secret',
      tls: {},
    });
  });

  test('present a client certificate, trust a private CA and override the server name', async () => {
    const config = loadConfig({
      TEMPORAL_TLS_CERT_PATH: path.join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY_PATH: path.join(dir, 'client.key'),
      TEMPORAL_TLS_CA_PATH: path.join(dir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = await temporalConnectionOptions(config.temporal);
    expect(options.apiKey).toBeUndefined();
    expect(options.tls?.serverNameOverride).toBe('temporal.internal');
    expect(options.tls?.serverRootCACertificate?.toString()).toBe('CA');
    expect(options.tls?.clientCertPair?.crt.toString()).toBe('CERT');
    expect(options.tls?.clientCertPair?.key.toString()).toBe('KEY');
  });

  test('use TLS without anything else when TEMPORAL_TLS is set; empty values are unset', async () => {
    const config = loadConfig({ TEMPORAL_TLS: 'true', TEMPORAL_API_KEY: '', TEMPORAL_TLS_CA_PATH: '' });
    expect(await temporalConnectionOptions(config.temporal)).toEqual({ address: '127.0.0.1:7233', tls: {} });
  });

  test('refuse a certificate without its key, naming the missing variable', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CERT_PATH: path.join(dir, 'client.pem') })).toThrow(/TEMPORAL_TLS_KEY_PATH/);
  });

  test('fail at start-up on an unreadable file, naming its variable', async () => {
    const config = loadConfig({ TEMPORAL_TLS_CA_PATH: path.join(dir, 'missing.pem') });
    await expect(temporalConnectionOptions(config.temporal)).rejects.toThrow(/TEMPORAL_TLS_CA_PATH: cannot read/);
  });
});

describe('workflow code of the worker', () => {
  test('run from source, it bundles workflows/ and ignores any dist/ build', () => {
    expect(PREBUILT_WORKFLOW_BUNDLE_PATH).toBeUndefined();
    expect(WORKFLOWS_PATH).toMatch(/workflows[/\\]index\.ts$/);
    expect(workflowSource({})).toEqual({ workflowsPath: WORKFLOWS_PATH });
  });

  test('loads the bundle file WORKFLOW_BUNDLE_PATH names, and refuses a missing one', () => {
    const codePath = path.join(dir, 'bundle.js');
    expect(workflowSource({ workflowBundlePath: codePath })).toEqual({ workflowBundle: { codePath } });
    expect(() => workflowSource({ workflowBundlePath: path.join(dir, 'nope.js') })).toThrow(/npm run build/);
  });

  test('prefers a bundle handed in (tests bundle once) over any file', () => {
    const bundle = { code: '/* bundle */' };
    expect(workflowSource({ workflowBundle: bundle, workflowBundlePath: path.join(dir, 'nope.js') })).toEqual({ workflowBundle: bundle });
  });
});

/**
 * Turns the Temporal settings of {@link AppConfig} into connection options, for the
 * worker's `NativeConnection` and the API's client `Connection` alike: plaintext for the
 * dev server and docker-compose; TLS, mTLS client certificates and/or an API key for a
 * secured cluster or Temporal Cloud.
 */
import { readFile } from 'node:fs/promises';
import type { AppConfig } from './index.ts';

/** The part of Temporal's connection options (client and worker alike) that config decides. */
export type TemporalConnectionSettings = {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
};

/**
 * Builds the connection options for `temporal`, reading the PEM files it names.
 *
 * @throws Error naming the variable whose file cannot be read, so a bad mount fails at
 *   start-up with a clear message.
 */
export async function temporalConnectionOptions(temporal: AppConfig['temporal']): Promise<TemporalConnectionSettings> {
  const options: TemporalConnectionSettings = { address: temporal.address };
  if (temporal.apiKey) options.apiKey = temporal.apiKey;
  const tls = temporal.tls;
  if (!tls) return options;
  options.tls = {};
  if (tls.serverName) options.tls.serverNameOverride = tls.serverName;
  if (tls.caPath) options.tls.serverRootCACertificate = await pem(tls.caPath, 'TEMPORAL_TLS_CA_PATH');
  if (tls.certPath && tls.keyPath) {
    options.tls.clientCertPair = {
      crt: await pem(tls.certPath, 'TEMPORAL_TLS_CERT_PATH'),
      key: await pem(tls.keyPath, 'TEMPORAL_TLS_KEY_PATH'),
    };
  }
  return options;
}

async function pem(path: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as Error).message})`);
  }
}

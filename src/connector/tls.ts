/**
 * TLS for the two sides of the connector, kept apart (the reference applied the cloud settings to local
 * targets too — §10.2 item 22):
 *
 * - **cloud** (`verify_ssl`, `ca_cert_path`, `client_cert_path`/`client_key_path`): used by every
 *   connection to the relay — the WebSocket/SSE/long-poll stream *and* the `POST /connect/ack` requests.
 *   A custom CA is added to Node's bundled root CAs, not used instead of them.
 * - **targets** (`verify_ssl`, `ca_cert_path` per target): used only for local HTTP deliveries.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { ConnectorConfig, TargetConfig } from './config.js';

/** TLS options for `https.request`, `https.Agent` and `ws`. */
export interface TlsOptions {
  readonly rejectUnauthorized: boolean;
  readonly ca?: string[];
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

function withCa(path: string | null | undefined): string[] | undefined {
  if (path == null) return undefined;
  return [...rootCertificates, readFileSync(path, 'utf8')];
}

/** TLS options for the relay connection. Reads the files once (throws when one cannot be read). */
export function cloudTlsOptions(config: ConnectorConfig): TlsOptions {
  const ca = withCa(config.ca_cert_path);
  return {
    rejectUnauthorized: config.verify_ssl,
    ...(ca === undefined ? {} : { ca }),
    ...(config.client_cert_path == null ? {} : { cert: readFileSync(config.client_cert_path) }),
    ...(config.client_key_path == null ? {} : { key: readFileSync(config.client_key_path) }),
  };
}

/** TLS options for one local target. */
export function targetTlsOptions(target: TargetConfig): TlsOptions {
  const ca = withCa(target.ca_cert_path);
  return { rejectUnauthorized: target.verify_ssl, ...(ca === undefined ? {} : { ca }) };
}

/** Keep-alive agents for one side: plain HTTP and HTTPS with `tls`. */
export interface Agents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  destroy(): void;
}

export function createAgents(tls: TlsOptions, maxSockets = 64): Agents {
  const base = { keepAlive: true, maxSockets };
  const http = new HttpAgent(base);
  const https = new HttpsAgent({ ...base, ...(tls as AgentOptions) });
  return {
    http,
    https,
    destroy() {
      http.destroy();
      https.destroy();
    },
  };
}

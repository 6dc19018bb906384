/**
 * The optional local status server (`status_port`): `GET /health` (200 while connected to the relay,
 * 503 otherwise, JSON body with the details either way) and `GET /metrics` (Prometheus text). Binds to
 * `status_host` (default 127.0.0.1).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface StatusSource {
  /** The health document; `healthy` decides 200 vs 503. */
  health(): { readonly healthy: boolean };
  readonly registry: Registry;
}

export interface StatusServer {
  /** `http://host:port`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startStatusServer(
  source: StatusSource,
  host: string,
  port: number,
): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health') {
      const health = source.health();
      res.writeHead(health.healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(health));
      return;
    }
    if (path === '/metrics') {
      source.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': source.registry.contentType });
          res.end(text);
        },
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * TLS without a proxy (ARCHITECTURE promise 8): `serve --tls-cert --tls-key` terminates TLS itself, a
 * sender posts over https, and the connector reaches the relay over wss with a custom CA
 * (`ca_cert_path`), delivering the exact bytes to a local target. The certificate is generated for this
 * run with openssl (skipped loudly when openssl is missing).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'wc-tls-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function launch(args: string[]): { child: ChildProcess; output: () => string } {
  const env: Record<string, string | undefined> = {
    ...process.env,
    LOG_LEVEL: 'info',
    WEBHOOK_CONNECT_BUFFER: 'sqlite',
    WEBHOOK_CONNECT_SQLITE_PATH: join(dir, 'buffer.sqlite'),
  };
  delete env.NODE_ENV;
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), ...args],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('https ingest and a wss connector with a custom CA deliver the exact bytes', async (t) => {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const openssl = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  if (openssl.status !== 0) {
    console.warn('SKIPPED tls e2e: openssl could not generate a certificate');
    t.skip('openssl unavailable');
    return;
  }

  const received: { body: Buffer; headers: IncomingMessage['headers'] }[] = [];
  const target = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks), headers: request.headers });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  t.after(() => target.close());
  const targetPort = (target.address() as AddressInfo).port;

  const token = 'tls-channel-token';
  writeFileSync(
    join(dir, 'webhooks.json'),
    JSON.stringify({
      secured: {
        module: 'webhook_connect',
        'module-config': { channel: 'tls-channel', channel_token: token },
      },
    }),
  );
  writeFileSync(join(dir, 'connections.json'), '{}');
  const receiver = launch([
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--tls-cert',
    cert,
    '--tls-key',
    key,
    '--webhooks',
    join(dir, 'webhooks.json'),
    '--connections',
    join(dir, 'connections.json'),
  ]);
  const port = await waitFor(() => {
    const match = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(receiver.output());
    return match === null ? undefined : Number(match[1]);
  }, `the receiver to listen over https (${receiver.output()})`);

  writeFileSync(
    join(dir, 'connector.json'),
    JSON.stringify({
      cloud_url: `https://127.0.0.1:${port}`,
      channel: 'tls-channel',
      token,
      protocol: 'websocket',
      ca_cert_path: cert,
      default_target: { url: `http://127.0.0.1:${targetPort}/hook` },
    }),
  );
  const connector = launch(['connector', '--config', join(dir, 'connector.json')]);

  const body = Buffer.from('{ "over" :  "tls" }');
  const status = await new Promise<number>((resolve, reject) => {
    const request = httpsRequest(
      `https://127.0.0.1:${port}/webhook/secured`,
      { method: 'POST', ca: readFileSync(cert), headers: { 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
  assert.equal(status, 200);

  const delivered = await waitFor(
    () => received[0],
    `the webhook at the target (connector output: ${connector.output().slice(-2000)})`,
  );
  assert.deepEqual(delivered.body, body);
  assert.equal(delivered.headers['content-type'], 'application/json');
  assert.match(connector.output(), /connected to the relay/);
});

/** Generates a CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makePki():
  { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } | undefined {
  const path = (name: string) => join(dir, name);
  const run = (args: string[]) => spawnSync('openssl', args, { cwd: dir }).status === 0;
  writeFileSync(path('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const ok =
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path('ca.key'),
      '-out',
      path('ca.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
    ]) &&
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path('srv.key'),
      '-out',
      path('srv.csr'),
      '-subj',
      '/CN=localhost',
    ]) &&
    run([
      'x509',
      '-req',
      '-in',
      path('srv.csr'),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path('srv.pem'),
      '-days',
      '1',
      '-extfile',
      path('san.ext'),
    ]) &&
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path('cli.key'),
      '-out',
      path('cli.csr'),
      '-subj',
      '/CN=connector-1',
    ]) &&
    run([
      'x509',
      '-req',
      '-in',
      path('cli.csr'),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path('cli.pem'),
      '-days',
      '1',
    ]);
  if (!ok) return undefined;
  return {
    ca: path('ca.pem'),
    serverCert: path('srv.pem'),
    serverKey: path('srv.key'),
    clientCert: path('cli.pem'),
    clientKey: path('cli.key'),
  };
}

/**
 * A relay stand-in over TLS that only accepts clients presenting a certificate signed by the CA, and
 * answers the SSE stream with a `connected` event. It records the client certificate's subject.
 */
async function startMtlsRelay(pki: NonNullable<ReturnType<typeof makePki>>, requireClientCert: boolean) {
  const seen: string[] = [];
  const server = createHttpsServer(
    {
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ca: readFileSync(pki.ca),
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
    },
    (request, response) => {
      const socket = request.socket as TLSSocket;
      seen.push(requireClientCert ? String(socket.getPeerCertificate().subject?.CN) : 'anonymous');
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('event: connected\ndata: {"connection_id":"tls-test","channel":"tls-channel"}\n\n');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => server.close(() => resolve())).then(() => server.closeAllConnections()),
  };
}

function connectorConfig(name: string, cloudPort: number, extra: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      cloud_url: `https://127.0.0.1:${cloudPort}`,
      channel: 'tls-channel',
      token: 'tls-token',
      protocol: 'sse',
      default_target: { url: 'http://127.0.0.1:9/unused' },
      ...extra,
    }),
  );
  return file;
}

test('connector TLS to the relay: client certificate (mTLS), verify_ssl false, and a refused unknown CA', async (t) => {
  const pki = makePki();
  if (pki === undefined) {
    console.warn('SKIPPED connector TLS tests: openssl could not generate certificates');
    t.skip('openssl unavailable');
    return;
  }

  // mTLS: the relay accepts only a client certificate signed by its CA.
  const mtls = await startMtlsRelay(pki, true);
  t.after(() => mtls.close());
  const withCert = launch([
    'connector',
    '--config',
    connectorConfig('mtls', mtls.port, {
      ca_cert_path: pki.ca,
      client_cert_path: pki.clientCert,
      client_key_path: pki.clientKey,
    }),
  ]);
  await waitFor(
    () => (mtls.seen.includes('connector-1') ? true : undefined),
    `an mTLS stream request (${withCert.output().slice(-1500)})`,
  );
  await waitFor(
    () => (/connected to the relay/.test(withCert.output()) ? true : undefined),
    'the connector to report the connection',
  );
  withCert.child.kill('SIGKILL');

  // Self-signed-for-us server (unknown CA): refused by default, accepted with verify_ssl false.
  const open = await startMtlsRelay(pki, false);
  t.after(() => open.close());
  const verifying = launch(['connector', '--config', connectorConfig('verify', open.port, {})]);
  await waitFor(
    () =>
      /certificate|self[- ]signed|UNABLE_TO_VERIFY|unable to verify/i.test(verifying.output())
        ? true
        : undefined,
    `a certificate error from the verifying connector (${verifying.output().slice(-1500)})`,
  );
  assert.equal(open.seen.length, 0, 'no request reached a relay whose certificate could not be verified');
  verifying.child.kill('SIGKILL');

  const trusting = launch([
    'connector',
    '--config',
    connectorConfig('noverify', open.port, { verify_ssl: false }),
  ]);
  await waitFor(
    () => (open.seen.length > 0 ? true : undefined),
    `a stream request with verify_ssl false (${trusting.output().slice(-1500)})`,
  );
  trusting.child.kill('SIGKILL');
});

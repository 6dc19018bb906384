/**
 * SSRF targets in `http_webhook`: cloud metadata addresses and names, `localhost`, a host name that
 * resolves to 127.0.0.1, IPv4-mapped IPv6, and decimal / octal / hex IPv4 spellings. The defined outcome:
 * IP literals (however spelled: the URL parser canonicalises them) and metadata names are refused when the
 * configuration is loaded (`WC_SSRF_BLOCKED` from the module; the loader reports it under the webhook's
 * path); names are refused when resolved at delivery (`WC_SSRF_BLOCKED`, permanent, never retried). A trap
 * listener on 127.0.0.1 proves that no connection was ever made.
 */
import { afterEach, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { httpWebhookModule } from '../../src/modules/http-webhook/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { WebhookConnectError } from '../../src/shared/errors.js';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import { assertStillServing, PROBE_WEBHOOK } from './helpers.js';

/** Counts every TCP connection made to it; answers nothing. */
let trap: Server;
let trapPort = 0;
let trapConnections = 0;
const trapSockets = new Set<Socket>();

before(async () => {
  trap = createServer((socket) => {
    trapConnections++;
    trapSockets.add(socket);
    socket.on('close', () => trapSockets.delete(socket));
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as { port: number }).port;
});
after(async () => {
  for (const socket of trapSockets) socket.destroy();
  await new Promise<void>((resolve) => trap.close(() => resolve()));
});

let receiver: TestReceiver | undefined;
let control: HttpServer | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  if (control !== undefined) {
    control.closeAllConnections();
    await new Promise<void>((resolve) => control!.close(() => resolve()));
    control = undefined;
  }
});

/** Every spelling of a loopback or metadata target that must be refused without DNS. */
function literalTargets(port: number): string[] {
  return [
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://169.254.170.2/v2/credentials',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://metadata.google.internal./computeMetadata/v1/',
    'http://METADATA.GOOGLE.INTERNAL/computeMetadata/v1/',
    'http://metadata/computeMetadata/v1/',
    'http://instance-data.ec2.internal/latest/',
    `http://127.0.0.1:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`,
    `http://[::1]:${port}/`,
    `http://2130706433:${port}/`, // decimal
    `http://017700000001:${port}/`, // octal, whole
    `http://0177.0.0.1:${port}/`, // octal, dotted
    `http://0x7f000001:${port}/`, // hex, whole
    `http://0x7f.0x0.0x0.0x1:${port}/`, // hex, dotted
    `http://0x7f.1:${port}/`, // mixed short form
    `http://127.1:${port}/`, // short form
    `http://0:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://[::]:${port}/`,
    `http://2852039166/latest/meta-data/`, // 169.254.169.254 in decimal
    `http://0xa9fea9fe/latest/meta-data/`, // ... in hex
    `http://0251.0376.0251.0376/latest/meta-data/`, // ... in octal
  ];
}

test('IP-literal, numeric-spelling and metadata-name targets are refused at config load; nothing connects', async () => {
  const targets = literalTargets(trapPort);
  const webhooks: Record<string, unknown> = { ...PROBE_WEBHOOK };
  targets.forEach((url, i) => (webhooks[`t${i}`] = { module: 'http_webhook', 'module-config': { url } }));
  const refused = await startTestReceiver({ webhooks }).then(
    async (started) => {
      await started.stop();
      return undefined;
    },
    (error: Error) => error.message,
  );
  assert.ok(refused !== undefined, 'a configuration with SSRF targets was loaded');
  // Every target is reported, each under its own entry, with the guard's reason.
  targets.forEach((url, i) => {
    assert.match(
      refused,
      new RegExp(`webhooks\\.json › t${i}: Target host '[^']*' is not allowed: `),
      `${url} was not reported:\n${refused}`,
    );
  });
  assert.equal(trapConnections, 0);
});

test('the module itself refuses those targets with WC_SSRF_BLOCKED (what the loader reports)', async () => {
  const deps = { logger: silentLogger(), outbound: { allowedHosts: [] } };
  for (const url of literalTargets(trapPort)) {
    const moduleConfig = httpWebhookModule.schema.parse({ url });
    assert.throws(
      () => httpWebhookModule.create({ moduleConfig, connection: undefined, webhookId: 'x' }, deps),
      (error: unknown) => error instanceof WebhookConnectError && error.code === 'WC_SSRF_BLOCKED',
      url,
    );
  }
  // An allow-list entry that is a range or a wildcard never unlocks a metadata endpoint.
  for (const [url, allowed_hosts] of [
    ['http://169.254.169.254/', ['169.254.0.0/16']],
    ['http://metadata.google.internal/', ['*.google.internal']],
  ] as const) {
    const moduleConfig = httpWebhookModule.schema.parse({ url, allowed_hosts: [...allowed_hosts] });
    assert.throws(
      () => httpWebhookModule.create({ moduleConfig, connection: undefined, webhookId: 'x' }, deps),
      (error: unknown) => error instanceof WebhookConnectError && error.code === 'WC_SSRF_BLOCKED',
      `${url} with ${allowed_hosts.join(',')}`,
    );
  }
  assert.equal(trapConnections, 0);
});

/** Host names (other than IP literals) that the system resolver maps only to loopback addresses. */
async function loopbackNames(): Promise<string[]> {
  const names: string[] = [];
  for (const name of ['localhost', hostname(), 'ip6-localhost', 'localhost.localdomain']) {
    const addresses = await lookup(name, { all: true }).catch(() => []);
    if (addresses.length > 0 && addresses.every((a) => a.address === '127.0.0.1' || a.address === '::1')) {
      if (!names.includes(name)) names.push(name);
    }
  }
  return names;
}

test('names resolving to 127.0.0.1 are refused at delivery with WC_SSRF_BLOCKED, not retried, never connected', async (t) => {
  const names = await loopbackNames();
  assert.ok(names.includes('localhost'), 'localhost does not resolve to loopback here');
  t.diagnostic(`loopback names tried: ${names.join(', ')}`);
  const webhooks: Record<string, unknown> = { ...PROBE_WEBHOOK };
  names.forEach((name, i) => {
    webhooks[`n${i}`] = {
      module: 'http_webhook',
      'module-config': { url: `http://${name}:${trapPort}/hook`, timeout: 2 },
      retry: { enabled: true, max_attempts: 5, initial_delay: 0, max_delay: 0 },
    };
  });
  const r = (receiver = await startTestReceiver({ webhooks }));

  for (let i = 0; i < names.length; i++) {
    // Straight through the dispatcher: the delivery result carries the code.
    const route = r.runtime.current.webhooks.get(`n${i}`);
    assert.ok(route !== undefined);
    const result = await route.dispatcher.run(
      {
        webhookId: `n${i}`,
        configKey: `n${i}`,
        messageId: `m${i}`,
        receivedAt: new Date(),
        payload: { probe: true },
        headers: {},
        rawBody: Buffer.from('{"probe":true}'),
        rawHeaders: {},
        contentType: 'application/json',
        query: {},
      },
      AbortSignal.timeout(5000),
    );
    assert.equal(result.success, false);
    const [only] = result.results;
    assert.equal(only?.errorCode, 'WC_SSRF_BLOCKED', `${names[i]}: ${only?.errorMessage}`);
    assert.equal(only?.retryable, false);
    assert.equal(only?.attempts, 1, `${names[i]} was retried`);

    // And through HTTP: the webhook is taken (202: delivery continues in the background), then refused.
    const response = await r.app.inject({
      method: 'POST',
      url: `/webhook/n${i}`,
      payload: '{"probe":true}',
      headers: { 'content-type': 'application/json' },
    });
    assert.ok([200, 202].includes(response.statusCode), `answered ${response.statusCode}`);
  }
  await receiver.idle();
  const metrics = await receiver.app.inject({ method: 'GET', url: '/metrics' });
  assert.match(
    metrics.body,
    new RegExp(
      `module_deliveries_total\\{module="http_webhook",result="permanent_failure"\\} ${names.length * 2}`,
    ),
  );
  assert.equal(trapConnections, 0, 'a connection reached the trap listener');
  await assertStillServing(receiver);
});

test('control: an explicitly allow-listed loopback target is reached, and a redirect to the trap is not followed', async () => {
  // Proves the trap and the delivery path work, so "the trap received nothing" above can fail.
  let controlHits = 0;
  control = createHttpServer((request, response) => {
    controlHits++;
    request.resume();
    response.writeHead(302, { location: `http://127.0.0.1:${trapPort}/stolen` }).end();
  });
  await new Promise<void>((resolve) => control!.listen(0, '127.0.0.1', resolve));
  const controlPort = (control.address() as { port: number }).port;
  const before = trapConnections;
  receiver = await startTestReceiver({
    webhooks: {
      ...PROBE_WEBHOOK,
      direct: {
        module: 'http_webhook',
        'module-config': { url: `http://127.0.0.1:${trapPort}/`, allowed_hosts: ['127.0.0.1'], timeout: 2 },
      },
      redirect: {
        module: 'http_webhook',
        'module-config': {
          url: `http://127.0.0.1:${controlPort}/`,
          allowed_hosts: ['127.0.0.1'],
          timeout: 2,
        },
      },
    },
  });
  const send = (id: string) =>
    receiver!.app.inject({
      method: 'POST',
      url: `/webhook/${id}`,
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
  assert.equal((await send('direct')).statusCode, 200);
  await receiver.idle();
  assert.equal(trapConnections, before + 1, 'the allow-listed target was not reached');
  assert.equal((await send('redirect')).statusCode, 200);
  await receiver.idle();
  assert.equal(controlHits, 1);
  assert.equal(trapConnections, before + 1, 'the 302 was followed');
  await assertStillServing(receiver);
});

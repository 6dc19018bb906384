/* eslint-disable @typescript-eslint/no-explicit-any -- wire frames are read as loose JSON in tests */
/**
 * Process-level guarantees with real `serve` processes, parameterised by backend
 * (`WEBHOOK_CONNECT_BUFFER`, default sqlite; redis and rabbitmq read their URL variables):
 *
 * - a webhook answered 200 is in the buffer: SIGKILL right after the 200s, a new process delivers them all;
 * - two instances on one buffer: webhooks posted to A reach a connector on B, a token rotated on A is
 *   honoured on B, and killing A loses nothing. The relay keeps no state outside the buffer, so this
 *   runs on sqlite too, with both processes on one file (WAL, busy timeout; same host only): B learns of
 *   A's appends by its sweep, since `watch` is per process.
 *
 * When the backend's service is unreachable the tests skip loudly, unless
 * `WEBHOOK_CONNECT_REQUIRE_SERVICES=1`, where they fail.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUFFER_KINDS } from '../../src/buffer/registry.js';
import { tcpReachable } from '../harness/tcp.js';
import { ADMIN, auth, http, post, relayWebhook, TOKEN, waitFor, WsClient } from './helpers.js';

const backend = (process.env.WEBHOOK_CONNECT_BUFFER ?? 'sqlite').trim().toLowerCase();
const required = process.env.WEBHOOK_CONNECT_REQUIRE_SERVICES === '1';
const SERVICE_URLS: Record<string, string> = {
  redis: process.env.WEBHOOK_CONNECT_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  rabbitmq: process.env.WEBHOOK_CONNECT_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672/',
};

function reachable(url: string): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol.startsWith('amqp') ? 5672 : 6379));
  return tcpReachable(parsed.hostname, port);
}

/** Undefined when the backend can run here; else why not (fails instead when services are required). */
async function unavailable(): Promise<string | undefined> {
  let reason: string | undefined;
  if (!(BUFFER_KINDS as readonly string[]).includes(backend))
    reason = `buffer '${backend}' is not implemented in this build`;
  else if (SERVICE_URLS[backend] !== undefined && !(await reachable(SERVICE_URLS[backend])))
    reason = `${backend} at ${SERVICE_URLS[backend]} is unreachable`;
  if (reason === undefined) return undefined;
  if (required) throw new Error(`WEBHOOK_CONNECT_REQUIRE_SERVICES=1: ${reason}`);
  console.warn(`SKIPPED relay process tests (${backend}): ${reason}`);
  return reason;
}

const dirs: string[] = [];
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Store {
  readonly dir: string;
  readonly channel: string;
  readonly env: Record<string, string>;
}

function newStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'wc-relay-proc-'));
  dirs.push(dir);
  const channel = `proc-${randomBytes(4).toString('hex')}`;
  writeFileSync(
    join(dir, 'webhooks.json'),
    JSON.stringify({ hook: relayWebhook(channel, { ack_timeout_seconds: 10 }) }),
  );
  writeFileSync(join(dir, 'connections.json'), '{}');
  return {
    dir,
    channel,
    env: {
      WEBHOOK_CONNECT_BUFFER: backend,
      WEBHOOK_CONNECT_SQLITE_PATH: join(dir, 'buffer.sqlite'),
      WEBHOOK_CONNECT_ADMIN_TOKEN: ADMIN,
      WEBHOOKS_CONFIG_FILE: join(dir, 'webhooks.json'),
      CONNECTIONS_CONFIG_FILE: join(dir, 'connections.json'),
    },
  };
}

interface Instance {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
}

async function serve(store: Store): Promise<Instance> {
  const env: Record<string, string | undefined> = { ...process.env, ...store.env };
  env.HOST = '127.0.0.1';
  env.PORT = '0';
  env.LOG_LEVEL = 'info';
  delete env.NODE_ENV;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), 'serve'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let url: string | undefined;
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited: ${output}`);
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      return url !== undefined;
    },
    'serve to listen',
    30_000,
  );
  return { url: url!, child, output: () => output };
}

function kill(instance: Instance): Promise<void> {
  return new Promise((resolve) => {
    if (instance.child.exitCode !== null || instance.child.signalCode !== null) return resolve();
    instance.child.once('exit', () => resolve());
    instance.child.kill('SIGKILL');
  });
}

async function postN(url: string, from: number, count: number): Promise<void> {
  const answers = await Promise.all(
    Array.from({ length: count }, (_, i) => post(`${url}/webhook/hook`, JSON.stringify({ n: from + i }))),
  );
  for (const answer of answers) assert.equal(answer.status, 200, answer.text);
}

function received(client: WsClient): number[] {
  return [...new Set(client.webhooks.map((frame: any) => frame.payload.n as number))].sort((a, b) => a - b);
}

test(`SIGKILL right after the 200s loses nothing; a new process delivers every message (${backend})`, async (t) => {
  if ((await unavailable()) !== undefined) return t.skip(`${backend} unavailable`);
  const store = newStore();
  const first = await serve(store);
  assert.match(
    first.output(),
    new RegExp(`webhook connect buffer: ${backend}`),
    'the buffer is named at startup',
  );
  const health = (await http('GET', `${first.url}/health`)).json();
  assert.equal(health.components.webhook_connect, 'healthy');
  assert.equal(health.details.webhook_connect, `buffer ${backend}`);
  const COUNT = 200;
  await postN(first.url, 0, COUNT);
  await kill(first);

  const second = await serve(store);
  const client = new WsClient(second.url, store.channel, { autoAck: true });
  try {
    await waitFor(() => received(client).length === COUNT, `${COUNT} messages after the restart`, 30_000);
    assert.deepEqual(
      received(client),
      Array.from({ length: COUNT }, (_, n) => n),
    );
  } finally {
    await client.close();
    await kill(second);
  }
});

test(`two instances on one buffer: posted to A, delivered on B; rotation on A honoured on B; killing A loses nothing (${backend})`, async (t) => {
  if (backend === 'memory') {
    console.warn('SKIPPED two-instance test: the memory buffer lives in one process');
    return t.skip('memory is per process');
  }
  if ((await unavailable()) !== undefined) return t.skip(`${backend} unavailable`);
  const store = newStore();
  const [a, b] = await Promise.all([serve(store), serve(store)]);
  const client = new WsClient(b.url, store.channel, { autoAck: true });
  try {
    await waitFor(() => client.connectionId !== undefined, 'connector on B');
    await postN(a.url, 0, 100);
    await waitFor(() => received(client).length === 100, 'messages posted to A delivered on B', 30_000);

    const rotated = await post(
      `${a.url}/admin/webhook-connect/channels/${store.channel}/rotate-token`,
      '{"grace_period_seconds":0}',
      { authorization: `Bearer ${ADMIN}` },
    );
    assert.equal(rotated.status, 200, rotated.text);
    const newToken = rotated.json().new_token as string;
    const statusOnB = (token: string) =>
      http('GET', `${b.url}/connect/status/${store.channel}`, { headers: auth(token) });
    assert.equal((await statusOnB(newToken)).status, 200, 'the new token works on B at once');
    // B trusts its cached channel state for at most 5 s; then the old token is refused there too.
    await waitFor(async () => (await statusOnB(TOKEN)).status === 401, 'old token refused on B', 10_000);

    await postN(a.url, 100, 100);
    await kill(a);
    await waitFor(() => received(client).length === 200, 'everything accepted by A delivered', 30_000);
    assert.deepEqual(
      received(client),
      Array.from({ length: 200 }, (_, n) => n),
    );
  } finally {
    await client.close();
    await kill(a);
    await kill(b);
  }
});

import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../observability/logger.js';
import { isWebhookConnectError } from '../../shared/errors.js';
import type { WebhookEvent } from '../types.js';
import { saveToDiskModule } from './index.js';
import { saveToDiskConfigSchema } from './schema.js';

let base: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'wc-save-'));
});

afterEach(async () => {
  await chmod(base, 0o700).catch(() => undefined);
  await rm(base, { recursive: true, force: true });
});

function event(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    webhookId: 'ns/hook',
    configKey: 'hook',
    messageId: 'msg-1',
    receivedAt: new Date('2026-01-02T03:04:05.678Z'),
    payload: { order: 42, name: 'x' },
    headers: { 'x-a': '1' },
    rawBody: Buffer.from('{}'),
    rawHeaders: {},
    contentType: 'application/json',
    query: {},
    ...overrides,
  };
}

async function create(moduleConfig: Record<string, unknown>) {
  return saveToDiskModule.create(
    { moduleConfig: saveToDiskConfigSchema.parse(moduleConfig), connection: undefined, webhookId: 'hook' },
    { logger: silentLogger(), outbound: { allowedHosts: [] } },
  );
}

const signal = new AbortController().signal;
const isConfigError = (error: unknown) =>
  isWebhookConnectError(error) && error.code === 'WC_MODULE_UNAVAILABLE';

test('writes the payload as JSON, mode 0600 in a 0700 directory, no temp files left', async () => {
  const publisher = await create({ base_dir: base, path: 'out/hooks' });
  await publisher.deliver(event(), signal);
  const dir = join(base, 'out/hooks');
  assert.deepEqual(await readdir(dir), ['msg-1.json']);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'msg-1.json'), 'utf8')), { order: 42, name: 'x' });
  assert.equal((await stat(join(dir, 'msg-1.json'))).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  await publisher.close();
});

test('filename_pattern tokens and include_headers', async () => {
  const publisher = await create({
    base_dir: base,
    filename_pattern: '{webhook_id}-{date}-{time}-{timestamp}-{message_id}.{ext}',
    include_headers: true,
  });
  await publisher.deliver(event(), signal);
  const name = 'ns_hook-2026-01-02-030405-1767323045678-msg-1.json';
  assert.deepEqual(await readdir(base), [name]);
  assert.deepEqual(JSON.parse(await readFile(join(base, name), 'utf8')), {
    headers: { 'x-a': '1' },
    payload: { order: 42, name: 'x' },
  });
});

test('blob payloads are written as raw bytes', async () => {
  const publisher = await create({ base_dir: base });
  const bytes = Buffer.from([0, 255, 10, 13]);
  await publisher.deliver(event({ payload: bytes }), signal);
  assert.deepEqual(await readFile(join(base, 'msg-1.bin')), bytes);
});

test('unsafe patterns are config errors', () => {
  for (const pattern of ['../x', 'a/b', 'a\\b', '{nope}.json', '..']) {
    assert.throws(() => saveToDiskConfigSchema.parse({ filename_pattern: pattern }), pattern);
  }
});

test('path traversal is refused in raw and URL-encoded forms', async () => {
  for (const path of ['../escape', '%2e%2e/escape', '%252e%252e/escape', 'a/../../x', 'a\0b', '/etc']) {
    await assert.rejects(create({ base_dir: base, path }), isConfigError, path);
  }
});

test('a symlink escaping base_dir is refused', async () => {
  const outside = await mkdtemp(join(tmpdir(), 'wc-outside-'));
  try {
    await symlink(outside, join(base, 'link'));
    await assert.rejects(create({ base_dir: base, path: 'link' }), isConfigError);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('system directories are refused as base_dir, and so are non-directories', async () => {
  await assert.rejects(create({ base_dir: '/etc' }), isConfigError);
  await assert.rejects(create({ base_dir: '/usr/lib' }), isConfigError);
  await writeFile(join(base, 'file'), 'x');
  await assert.rejects(create({ base_dir: base, path: 'file' }), isConfigError);
});

test('health reports a missing or non-writable directory', async () => {
  const publisher = await create({ base_dir: base, path: 'target' });
  assert.deepEqual(await publisher.health!(), { status: 'healthy' });
  if (process.getuid?.() !== 0) {
    await chmod(join(base, 'target'), 0o500);
    assert.equal((await publisher.health!()).status, 'unhealthy');
    await chmod(join(base, 'target'), 0o700);
  }
  await rm(join(base, 'target'), { recursive: true });
  assert.deepEqual(await publisher.health!(), { status: 'unhealthy', detail: 'target directory missing' });
  await writeFile(join(base, 'target'), 'x');
  assert.deepEqual(await publisher.health!(), { status: 'unhealthy', detail: 'target is not a directory' });
});

test('a vanished directory is a transient delivery failure', async () => {
  const publisher = await create({ base_dir: base, path: 'gone' });
  await rm(join(base, 'gone'), { recursive: true });
  await assert.rejects(
    publisher.deliver(event(), signal),
    (error: Error) => error.name === 'TransientDeliveryError',
  );
});

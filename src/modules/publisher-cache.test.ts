import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { silentLogger } from '../observability/logger.js';
import { canonicalJson, PublisherCache, publisherKey } from './publisher-cache.js';
import type { ModuleDescriptor, Publisher } from './types.js';

function countingModule() {
  const created: Array<{ closed: number; config: unknown }> = [];
  const descriptor: ModuleDescriptor<Record<string, unknown>> = {
    type: 'counting',
    schema: z.record(z.string(), z.unknown()),
    secretFields: ['password'],
    create: async (instance): Promise<Publisher> => {
      const record = { closed: 0, config: instance.moduleConfig };
      created.push(record);
      return {
        deliver: async () => undefined,
        close: async () => {
          record.closed++;
          if (instance.moduleConfig.failClose === true) throw new Error('close failed');
        },
      };
    },
  };
  return { descriptor, created };
}

const deps = { logger: silentLogger(), outbound: { allowedHosts: [] } };
const instance = (moduleConfig: Record<string, unknown>, connection?: Record<string, unknown>) => ({
  moduleConfig,
  connection,
  webhookId: 'hook',
});

test('canonical JSON sorts keys at every level', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }),
    '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}',
  );
});

test('keys hash secrets and connections, and ignore key order', () => {
  const { descriptor } = countingModule();
  const key = publisherKey(
    descriptor as ModuleDescriptor,
    instance({ password: 'hunter2', host: 'h' }, { token: 'tok' }),
  );
  assert.ok(!key.includes('hunter2') && !key.includes('tok"'));
  assert.equal(
    key,
    publisherKey(
      descriptor as ModuleDescriptor,
      instance({ host: 'h', password: 'hunter2' }, { token: 'tok' }),
    ),
  );
  assert.notEqual(
    key,
    publisherKey(
      descriptor as ModuleDescriptor,
      instance({ host: 'h', password: 'other' }, { token: 'tok' }),
    ),
  );
  assert.notEqual(
    key,
    publisherKey(
      descriptor as ModuleDescriptor,
      instance({ host: 'h', password: 'hunter2' }, { token: 'x' }),
    ),
  );
});

test('acquire creates once per key, also under concurrency', async () => {
  const { descriptor, created } = countingModule();
  const cache = new PublisherCache({ logger: silentLogger() });
  const [a, b] = await Promise.all([
    cache.acquire(descriptor, instance({ host: 'h' }), deps),
    cache.acquire(descriptor, instance({ host: 'h' }), deps),
  ]);
  assert.equal(a.publisher, b.publisher);
  await cache.acquire(descriptor, instance({ host: 'other' }), deps);
  assert.equal(created.length, 2);
  assert.equal(cache.size, 2);
  await cache.closeAll();
});

test('retain closes only unused publishers; close errors are logged, not thrown', async () => {
  const { descriptor, created } = countingModule();
  const lines: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  );
  const cache = new PublisherCache({ logger });
  const kept = await cache.acquire(descriptor, instance({ host: 'keep' }), deps);
  await cache.acquire(descriptor, instance({ host: 'drop', failClose: true }), deps);
  await cache.retain([kept.key]);
  assert.deepEqual(
    created.map((record) => record.closed),
    [0, 1],
  );
  assert.equal(cache.size, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /closing a publisher failed/);
  await cache.closeAll();
  assert.equal(created[0]!.closed, 1);
  assert.equal(cache.size, 0);
});

test('a failed creation is not cached', async () => {
  let fail = true;
  const descriptor: ModuleDescriptor = {
    type: 'flaky',
    schema: z.unknown(),
    secretFields: [],
    create: () => {
      if (fail) throw new Error('boom');
      return { deliver: async () => undefined, close: async () => undefined };
    },
  };
  const cache = new PublisherCache({ logger: silentLogger() });
  await assert.rejects(cache.acquire(descriptor, instance({}), deps), /boom/);
  assert.equal(cache.size, 0);
  fail = false;
  await cache.acquire(descriptor, instance({}), deps);
  assert.equal(cache.size, 1);
  await cache.closeAll();
});

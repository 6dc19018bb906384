import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { silentLogger } from '../observability/logger.js';
import { isWebhookConnectError } from '../shared/errors.js';
import { STOPPED_MESSAGE } from './chain.js';
import {
  createDispatcher,
  planDispatch,
  type DispatchPlan,
  type ModuleResult,
  type WebhookDispatchConfig,
} from './dispatch.js';
import { PublisherCache } from './publisher-cache.js';
import { createModuleRegistry, type ModuleRegistry } from './registry.js';
import { chainConfigSchema, retrySchema } from './schemas.js';
import type { ModuleDescriptor, ModuleInstanceConfig, WebhookEvent } from './types.js';

let server: Server;
let base: string;
let cache: PublisherCache;
let hits: Record<string, number>;
let url: (path: string) => string;

beforeEach(async () => {
  hits = {};
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      hits[path] = (hits[path] ?? 0) + 1;
      if (path === '/stall') return; // never answers
      if (path === '/fail') res.statusCode = 400;
      if (path === '/flaky' && hits[path] === 1) res.statusCode = 503;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = (path) => `http://127.0.0.1:${port}${path}`;
  base = await mkdtemp(join(tmpdir(), 'wc-dispatch-'));
  cache = new PublisherCache({ logger: silentLogger() });
});

afterEach(async () => {
  await cache.closeAll();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(base, { recursive: true, force: true });
});

const deps = { logger: silentLogger(), outbound: { allowedHosts: ['127.0.0.1'] } };
const fastRetry = { sleep: async () => undefined };

function event(): WebhookEvent {
  return {
    webhookId: 'hook',
    configKey: 'hook',
    messageId: 'msg-1',
    receivedAt: new Date(),
    payload: { n: 1 },
    headers: {},
    rawBody: Buffer.from('{"n":1}'),
    rawHeaders: {},
    contentType: 'application/json',
    query: {},
  };
}

async function build(
  entry: WebhookDispatchConfig,
  registry: ModuleRegistry = createModuleRegistry(),
  onResult?: (m: string, r: ModuleResult) => void,
) {
  const plan = planDispatch('hook', entry, () => undefined);
  return createDispatcher(plan, {
    registry,
    cache,
    deps,
    retry: fastRetry,
    ...(onResult ? { onResult } : {}),
  });
}

const chain = (execution: 'sequential' | 'parallel', continueOnError: boolean, timeout = 30) =>
  chainConfigSchema.parse({ execution, continue_on_error: continueOnError, timeout });

test('single module with webhook-level retry: 503 then 200 succeeds; onResult counts it', async () => {
  const seen: Array<[string, boolean, number]> = [];
  const dispatcher = await build(
    {
      module: 'http_webhook',
      'module-config': { url: url('/flaky') },
      retry: retrySchema.parse({ enabled: true, max_attempts: 3 }),
    },
    createModuleRegistry(),
    (module, result) => seen.push([module, result.success, result.attempts]),
  );
  const result = await dispatcher.run(event(), new AbortController().signal);
  assert.equal(result.success, true);
  assert.equal(result.results[0]!.attempts, 2);
  assert.deepEqual(seen, [['http_webhook', true, 2]]);
  assert.equal(hits['/flaky'], 2);
});

test('a permanent failure carries its code and is not retried', async () => {
  const dispatcher = await build({
    module: 'http_webhook',
    'module-config': { url: url('/fail') },
    retry: retrySchema.parse({ enabled: true, max_attempts: 5 }),
  });
  const result = await dispatcher.run(event(), new AbortController().signal);
  const [only] = result.results;
  assert.equal(result.success, false);
  assert.equal(only!.errorCode, 'WC_DELIVERY_PERMANENT');
  assert.equal(only!.retryable, false);
  assert.equal(hits['/fail'], 1);
});

test('sequential chain, continue_on_error true: a failed item does not stop the file write', async () => {
  const dispatcher = await build({
    chain: [{ module: 'http_webhook', 'module-config': { url: url('/fail') } }, 'save_to_disk'],
    'module-config': { base_dir: base },
    'chain-config': chain('sequential', true),
  });
  const result = await dispatcher.run(event(), new AbortController().signal);
  assert.deepEqual(
    result.results.map((r) => [r.module, r.success]),
    [
      ['http_webhook', false],
      ['save_to_disk', true],
    ],
  );
  assert.deepEqual(await readdir(base), ['msg-1.json']);
});

test('sequential chain, continue_on_error false: the rest is skipped', async () => {
  const dispatcher = await build({
    chain: [{ module: 'http_webhook', 'module-config': { url: url('/fail') } }, 'save_to_disk'],
    'module-config': { base_dir: base },
    'chain-config': chain('sequential', false),
  });
  const result = await dispatcher.run(event(), new AbortController().signal);
  assert.equal(result.success, false);
  assert.equal(result.results[1]!.skipped, true);
  assert.equal(result.results[1]!.errorMessage, STOPPED_MESSAGE);
  assert.deepEqual(await readdir(base), []);
});

test('parallel chain, continue_on_error true: every item runs', async () => {
  const dispatcher = await build({
    chain: [
      { module: 'http_webhook', 'module-config': { url: url('/fail') } },
      { module: 'save_to_disk', 'module-config': { path: 'sub' } },
      { module: 'http_webhook', 'module-config': { url: url('/ok') } },
    ],
    'module-config': { base_dir: base },
    'chain-config': chain('parallel', true),
  });
  const result = await dispatcher.run(event(), new AbortController().signal);
  assert.deepEqual(
    result.results.map((r) => r.success),
    [false, true, true],
  );
  assert.deepEqual(await readdir(join(base, 'sub')), ['msg-1.json']);
  assert.equal(hits['/ok'], 1);
});

test('parallel chain, continue_on_error false: the first failure cancels the others', async () => {
  const dispatcher = await build({
    chain: [
      { module: 'http_webhook', 'module-config': { url: url('/stall') } },
      { module: 'http_webhook', 'module-config': { url: url('/fail') } },
    ],
    'chain-config': chain('parallel', false, 600),
  });
  const result = await dispatcher.run(event(), new AbortController().signal);
  assert.equal(result.success, false);
  assert.equal(result.aborted, false);
  assert.match(result.results[0]!.errorMessage ?? '', /Cancelled after another chain item failed/);
  assert.equal(result.results[1]!.errorCode, 'WC_DELIVERY_PERMANENT');
});

test('parallel chain overall timeout cancels unfinished items', async () => {
  const dispatcher = await build({
    chain: [
      { module: 'http_webhook', 'module-config': { url: url('/stall') } },
      { module: 'save_to_disk', 'module-config': { base_dir: base } },
    ],
    'chain-config': chain('parallel', true, 0.2),
  });
  const result = await dispatcher.run(event(), new AbortController().signal);
  assert.match(result.results[0]!.errorMessage ?? '', /Task timed out after 0.2s/);
  assert.equal(result.results[0]!.retryable, true);
  assert.equal(result.results[1]!.success, true);
});

test('shutdown aborts a run and marks it aborted', async () => {
  const dispatcher = await build({ module: 'http_webhook', 'module-config': { url: url('/stall') } });
  const controller = new AbortController();
  const pending = dispatcher.run(event(), controller.signal);
  setTimeout(() => controller.abort(new Error('shutdown')), 50);
  const result = await pending;
  assert.equal(result.aborted, true);
  assert.equal(result.results[0]!.aborted, true);
  assert.equal(result.results[0]!.attempts, 0);
});

test('chain items inherit the webhook connection and merge module-config', async () => {
  const seen: Array<ModuleInstanceConfig<Record<string, unknown>>> = [];
  const recording: ModuleDescriptor<Record<string, unknown>> = {
    type: 'recording',
    schema: z.record(z.string(), z.unknown()),
    connectionTypes: ['thing'],
    secretFields: [],
    create: (instance) => {
      seen.push(instance);
      return { deliver: async () => undefined, close: async () => undefined };
    },
  };
  const registry = createModuleRegistry();
  registry.register(recording as ModuleDescriptor<never>);
  const connections: Record<string, Record<string, unknown>> = {
    top: { type: 'thing', host: 'a' },
    own: { type: 'thing', host: 'b' },
  };
  const plan = planDispatch(
    'hook',
    {
      connection: 'top',
      'module-config': { shared: 1, over: 'top' },
      chain: [
        'recording',
        { module: 'recording', connection: 'own', 'module-config': { over: 'item' }, topic: 't' },
      ],
    },
    (name) => connections[name],
  );
  const dispatcher = await createDispatcher(plan, { registry, cache, deps });
  assert.equal(dispatcher.publisherKeys.length, 2);
  assert.deepEqual(
    dispatcher.publishers.map((p) => [p.type, p.index]),
    [
      ['recording', 0],
      ['recording', 1],
    ],
  );
  assert.deepEqual(seen[0]!.connection, connections.top);
  assert.deepEqual(seen[0]!.moduleConfig, { shared: 1, over: 'top' });
  assert.deepEqual(seen[1]!.connection, connections.own);
  assert.deepEqual(seen[1]!.moduleConfig, { shared: 1, over: 'item', topic: 't' });
  const result = await dispatcher.run(event(), new AbortController().signal);
  assert.equal(result.success, true);
});

test('config problems are reported with their place', async () => {
  const registry = createModuleRegistry();
  const options = { registry, cache, deps };
  const check = (code: string, pattern: RegExp) => (error: unknown) =>
    isWebhookConnectError(error) && error.code === code && pattern.test(error.detail);
  await assert.rejects(
    createDispatcher(
      planDispatch('h', { chain: ['log', { module: 'http_webhook' }] }, () => undefined),
      options,
    ),
    check('WC_CONFIG_INVALID', /chain\[1\]: module-config\.url/),
  );
  await assert.rejects(
    createDispatcher(
      planDispatch('h', { module: 'kafka' }, () => undefined),
      options,
    ),
    check('WC_MODULE_UNAVAILABLE', /kafka/),
  );
  assert.throws(
    () => planDispatch('h', { module: 'log', connection: 'missing' }, () => undefined),
    check('WC_CONFIG_INVALID', /missing/),
  );
  assert.throws(
    () =>
      planDispatch(
        'h',
        { chain: [{ module: 'log', topic: 'a', 'module-config': { topic: 'b' } }] },
        () => undefined,
      ),
    check('WC_CONFIG_INVALID', /topic/),
  );
  const plan: DispatchPlan = planDispatch('h', { chain: ['log'] }, () => undefined);
  assert.equal(plan.kind, 'chain');
});

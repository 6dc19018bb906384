/** Module mode: the receiver's modules and chains via dispatch, remembered chain steps. */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { ConfigError } from '../../src/config/issues.js';
import { formatReport } from '../../src/config/report.js';
import { Connector } from '../../src/connector/connector.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startRecordingTarget, type RecordingTarget } from '../harness/recording-target.js';
import { startReferenceRelay, type ReferenceRelay } from '../harness/reference-relay.js';
import {
  baseConfig,
  configFrom,
  removeTempDirs,
  startConnector,
  stopConnectors,
  tempDir,
} from './helpers.js';

let relay: ReferenceRelay | undefined;
let target: RecordingTarget | undefined;

afterEach(async () => {
  await stopConnectors();
  await relay?.close();
  await target?.close();
  relay = undefined;
  target = undefined;
  removeTempDirs();
});

function moduleFiles(dir: string) {
  const webhooks = join(dir, 'webhooks.json');
  writeFileSync(
    webhooks,
    JSON.stringify({
      orders: {
        // Validated but not run by the connector: the relay authenticated the webhook.
        hmac: { secret: '{$ORDERS_SECRET}' },
        chain: [
          { module: 'save_to_disk', 'module-config': { path: 'out', base_dir: '{$OUT_DIR}' } },
          { module: 'http_webhook', 'module-config': { url: '{$TARGET_URL}/audit' } },
          { module: 'http_webhook', 'module-config': { url: '{$TARGET_URL}/app' } },
        ],
        'chain-config': { execution: 'sequential', continue_on_error: false },
      },
    }),
  );
  const connections = join(dir, 'connections.json');
  writeFileSync(connections, JSON.stringify({}));
  return { webhooks, connections };
}

async function runChainScenario(remember: boolean) {
  relay = await startReferenceRelay({ additive: true });
  target = await startRecordingTarget();
  // /app fails once; /audit always succeeds.
  let appCalls = 0;
  target.setHandler((request) =>
    request.path === '/app' && appCalls++ === 0 ? { kind: 'fail', status: 503 } : undefined,
  );
  const dir = tempDir();
  mkdirSync(join(dir, 'out'));
  const files = moduleFiles(dir);
  const env = {
    OUT_DIR: dir,
    TARGET_URL: target.url,
    ORDERS_SECRET: 's',
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
  };
  const config = configFrom(
    baseConfig(relay, {
      webhooks_config: files.webhooks,
      connections_config: files.connections,
      remember_succeeded_steps: remember,
    }),
  );
  await startConnector(config, { env });
  const id = relay.publish({ webhookId: 'orders', body: '{"order": 7}' });
  await relay.waitFor(() => relay!.acked().includes(id), 'acked');
  const paths = target.requests.map((request) => request.path);
  return { id, dir, paths, written: readdirSync(join(dir, 'out')).filter((name) => name.endsWith('.json')) };
}

test('module mode: a partly failed chain does not repeat its succeeded step on redelivery', async () => {
  const { id, dir, paths, written } = await runChainScenario(true);
  assert.equal(relay!.nacks.length, 1, 'first delivery nacked (http_webhook 503)');
  assert.match(relay!.nacks[0]!.error ?? '', /chain\[2\] http_webhook/);
  assert.deepEqual(paths, ['/audit', '/app', '/app'], 'the succeeded /audit step ran once');
  assert.deepEqual(JSON.parse(target!.requests[2]!.body.toString()), { order: 7 });
  assert.deepEqual(written, [`${id}.json`]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out', written[0]!), 'utf8')), { order: 7 });
});

test('module mode: with remember_succeeded_steps false the whole chain runs again', async () => {
  const { paths } = await runChainScenario(false);
  assert.deepEqual(paths, ['/audit', '/app', '/audit', '/app']);
});

test('module mode: an unknown webhook id is dead-lettered with the reason', async () => {
  relay = await startReferenceRelay({ additive: true });
  const dir = tempDir();
  const webhooks = join(dir, 'webhooks.json');
  writeFileSync(webhooks, JSON.stringify({ known: { module: 'log' } }));
  await startConnector(configFrom(baseConfig(relay, { webhooks_config: webhooks })));
  const id = relay.publish({ webhookId: 'unknown', body: '{}' });
  await relay.waitFor(() => relay!.deadLetters().length === 1, 'dead letter');
  assert.equal(relay.deadLetters()[0]!.messageId, id);
  assert.match(relay.deadLetters()[0]!.error ?? '', /not in webhooks_config/);
});

test('module mode: errors in the webhooks file are reported with their paths', async () => {
  const dir = tempDir();
  const webhooks = join(dir, 'webhooks.json');
  writeFileSync(
    webhooks,
    JSON.stringify({
      a: { module: 'no_such_module' },
      b: { module: 'log', hmac: { secret: '{$UNSET_SECRET_X}' } },
    }),
  );
  const config = configFrom({
    cloud_url: 'http://127.0.0.1:9',
    channel: 'c',
    token: 't',
    webhooks_config: webhooks,
  });
  await assert.rejects(
    Connector.create(config, { logger: silentLogger(), env: {}, defaultMetrics: false }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const report = formatReport(error.issues);
      assert.match(report, /webhooks\.json › a › module: unknown module 'no_such_module'/);
      assert.match(
        report,
        /webhooks\.json › b › hmac\.secret: environment variable UNSET_SECRET_X is not set/,
      );
      return true;
    },
  );
});

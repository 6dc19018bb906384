/** Connector configuration: defaults, precedence, {$VAR}, errors with paths, the CLI. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { formatReport } from '../../src/config/report.js';
import { loadConnectorConfig } from '../../src/connector/config.js';
import { startRecordingTarget, type RecordingTarget } from '../harness/recording-target.js';
import { startReferenceRelay, type ReferenceRelay } from '../harness/reference-relay.js';
import { removeTempDirs, tempDir, waitUntil } from './helpers.js';

let relay: ReferenceRelay | undefined;
let target: RecordingTarget | undefined;

afterEach(async () => {
  await relay?.close();
  await target?.close();
  relay = undefined;
  target = undefined;
  removeTempDirs();
});

function write(name: string, text: string): string {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

const minimal = {
  cloud_url: 'https://relay.example',
  channel: 'payments',
  token: 't0k',
  default_target: { url: 'http://localhost:3000/hook' },
};

test('every field has its spec default', () => {
  const loaded = loadConnectorConfig({
    flags: { config: write('c.json', JSON.stringify(minimal)) },
    env: {},
  });
  assert.ok(loaded.ok, loaded.ok ? '' : formatReport(loaded.issues));
  const c = loaded.config;
  assert.equal(c.protocol, 'websocket');
  assert.equal(c.reconnect_delay, 1);
  assert.equal(c.max_reconnect_delay, 60);
  assert.equal(c.reconnect_backoff_multiplier, 2);
  assert.equal(c.heartbeat_timeout, 60);
  assert.equal(c.connection_timeout, 30);
  assert.equal(c.max_concurrent_requests, 10);
  assert.equal(c.ack_timeout, 30);
  assert.equal(c.log_level, 'INFO');
  assert.equal(c.verify_ssl, true);
  assert.equal(c.etcd_port, 2379);
  assert.equal(c.etcd_prefix, '/cwm/');
  assert.equal(c.delivery_mode, 'http');
  assert.deepEqual(c.default_target, {
    url: 'http://localhost:3000/hook',
    method: 'POST',
    headers: {},
    timeout_seconds: 30,
    retry_enabled: true,
    retry_max_attempts: 3,
    retry_delay_seconds: 1,
    retry_backoff_multiplier: 2,
    verify_ssl: true,
  });
  assert.ok(Object.isFrozen(c));
});

test('YAML with {$VAR}; environment beats the file; flags beat both only when given', () => {
  const file = write(
    'connector.yaml',
    'cloud_url: "{$RELAY_URL}"\nchannel: payments\ntoken: "{$TOKEN}"\nprotocol: sse\nlog_level: debug\nmax_concurrent_requests: 4\ntargets:\n  github:\n    url: http://localhost:3000/gh\n',
  );
  const env = {
    RELAY_URL: 'http://relay:8000',
    TOKEN: 'secret',
    CONNECTOR_MAX_CONCURRENT_REQUESTS: '7',
    CONNECTOR_VERIFY_SSL: 'FALSE',
  };
  const fromFile = loadConnectorConfig({ flags: { config: file }, env });
  assert.ok(fromFile.ok, fromFile.ok ? '' : formatReport(fromFile.issues));
  assert.equal(fromFile.config.protocol, 'sse', 'no CLI default overrides the file');
  assert.equal(fromFile.config.log_level, 'DEBUG');
  assert.equal(fromFile.config.cloud_url, 'http://relay:8000');
  assert.equal(fromFile.config.token, 'secret');
  assert.equal(fromFile.config.max_concurrent_requests, 7, 'env wins over the file');
  assert.equal(fromFile.config.verify_ssl, false);
  const withFlags = loadConnectorConfig({
    flags: { config: file, protocol: 'long_poll', verify_ssl: false },
    env: { ...env, CONNECTOR_PROTOCOL: 'websocket' },
  });
  assert.ok(withFlags.ok);
  assert.equal(withFlags.config.protocol, 'long_poll');
});

test('environment alone (CONNECTOR_TARGET_URL) is a complete configuration', () => {
  const loaded = loadConnectorConfig({
    flags: {},
    env: {
      CONNECTOR_CLOUD_URL: 'http://r',
      CONNECTOR_CHANNEL: 'c',
      CONNECTOR_TOKEN: 't',
      CONNECTOR_TARGET_URL: 'http://l/h',
      CONNECTOR_TARGET_TIMEOUT: '5',
    },
  });
  assert.ok(loaded.ok);
  assert.equal(loaded.config.default_target?.timeout_seconds, 5);
});

test('errors carry their source and path', () => {
  const file = write(
    'bad.json',
    JSON.stringify({
      cloud_url: 'ftp://x',
      channel: '../etc',
      protocol: 'carrier-pigeon',
      reconnect_delay: 5,
      max_reconnect_delay: 1,
      targets: { github: { url: 'http://l', retries: 3 }, stripe: {} },
      token: '{$MISSING_TOKEN_VAR}',
    }),
  );
  const loaded = loadConnectorConfig({
    flags: { config: file },
    env: { CONNECTOR_MAX_CONCURRENT_REQUESTS: 'many' },
  });
  assert.ok(!loaded.ok);
  const report = formatReport(loaded.issues);
  assert.match(report, /bad\.json › cloud_url: must be an http:\/\/ or https:\/\/ URL/);
  assert.match(report, /bad\.json › channel: must match/);
  assert.match(report, /bad\.json › protocol: /);
  assert.match(
    report,
    /bad\.json › targets › github: unknown key 'retries'|bad\.json › targets › github.*retries/,
  );
  assert.match(report, /bad\.json › targets › stripe.*url/);
  assert.match(report, /environment › CONNECTOR_MAX_CONCURRENT_REQUESTS/);
  assert.match(report, /MISSING_TOKEN_VAR is not set/);
});

test('mode rules: none, two, etcd; reconnect bounds', () => {
  const base = { cloud_url: 'http://r', channel: 'c', token: 't' };
  const check = (value: object, pattern: RegExp) => {
    const loaded = loadConnectorConfig({
      flags: { config: write('m.json', JSON.stringify(value)) },
      env: {},
    });
    assert.ok(!loaded.ok);
    assert.match(formatReport(loaded.issues), pattern);
  };
  check(base, /either default_target\/targets, webhooks_config, or etcd_host/);
  check(
    { ...base, default_target: { url: 'http://l' }, webhooks_config: 'w.json' },
    /only one delivery mode/,
  );
  check({ ...base, etcd_host: 'etcd' }, /etcd mode is not supported/);
  check(
    { ...base, default_target: { url: 'http://l' }, reconnect_delay: 5, max_reconnect_delay: 1 },
    /max_reconnect_delay: must be >= reconnect_delay/,
  );
  check({ ...minimal, heartbeat_timeout: 0 }, /heartbeat_timeout/);
});

const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), 'connector'];

test('cli: invalid configuration → exit 1 with the report; unknown flag → exit 2', () => {
  const file = write('bad.json', JSON.stringify({ channel: 'c' }));
  const result = spawnSync(process.execPath, [...cli, '--config', file], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '' },
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /bad\.json › cloud_url: required/);
  assert.match(result.stderr, /bad\.json › token: required/);
  const usage = spawnSync(process.execPath, [...cli, '--bogus'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(usage.status, 2);
});

test('cli: runs against the relay and exits 0 on SIGTERM after finishing its delivery', async () => {
  relay = await startReferenceRelay({ additive: true });
  target = await startRecordingTarget();
  target.setMode({ kind: 'stall' });
  const file = write(
    'c.json',
    JSON.stringify({
      cloud_url: relay.url,
      channel: relay.channel,
      default_target: { url: target.url },
      reconnect_delay: 0.1,
      max_reconnect_delay: 0.5,
    }),
  );
  const child = spawn(process.execPath, [...cli, '-c', file, '--log-level', 'ERROR'], {
    env: { PATH: process.env.PATH ?? '', CONNECTOR_TOKEN: relay.token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const id = relay.publish({ webhookId: 'w', body: '{}' });
    await waitUntil(() => target!.requests.length === 1, 'delivery in progress', 20_000);
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    target.setMode({ kind: 'succeed' });
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(relay.acked(), [id], 'the in-flight delivery finished and was acked before exit');
  } finally {
    child.kill('SIGKILL');
  }
});

test('the examples load: HTTP mode and module mode (with their webhooks file)', async () => {
  const env = { CONNECTOR_CHANNEL_TOKEN: 'example', DATA_DIR: tempDir() };
  const http = loadConnectorConfig({ flags: { config: 'examples/connector.json' }, env });
  assert.ok(http.ok, http.ok ? '' : formatReport(http.issues));
  assert.equal(http.config.delivery_mode, 'http');
  const modules = loadConnectorConfig({ flags: { config: 'examples/connector-modules.json' }, env });
  assert.ok(modules.ok, modules.ok ? '' : formatReport(modules.issues));
  assert.equal(modules.config.delivery_mode, 'module');
  const { Connector } = await import('../../src/connector/connector.js');
  const { silentLogger } = await import('../../src/observability/logger.js');
  const connector = await Connector.create(modules.config, {
    logger: silentLogger(),
    env,
    defaultMetrics: false,
  });
  await connector.stop(0);
});

/** Shared setup for connector tests: config from an object, a running connector, cleanup. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConnectorConfig, type ConnectorConfig } from '../../src/connector/config.js';
import { Connector } from '../../src/connector/connector.js';
import { formatReport } from '../../src/config/report.js';
import { silentLogger, type Logger } from '../../src/observability/logger.js';
import type { RelayUnderTest } from '../harness/reference-relay.js';

/** Fast timings for tests; every value can be overridden. */
export function baseConfig(
  relay: RelayUnderTest,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cloud_url: relay.url,
    channel: relay.channel,
    token: relay.token,
    connector_id: 'test-connector',
    reconnect_delay: 0.05,
    max_reconnect_delay: 0.2,
    heartbeat_timeout: 5,
    connection_timeout: 2,
    shutdown_timeout: 2,
    ...extra,
  };
}

const dirs: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wc-connector-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes `value` as a config file and loads it (throws with the report when invalid). */
export function configFrom(
  value: Record<string, unknown>,
  env: Record<string, string> = {},
): ConnectorConfig {
  const file = join(tempDir(), 'connector.json');
  writeFileSync(file, JSON.stringify(value));
  const loaded = loadConnectorConfig({ flags: { config: file }, env });
  if (!loaded.ok) throw new Error(formatReport(loaded.issues));
  return loaded.config;
}

/** Starts a connector; every one started is stopped by `stopConnectors`. */
const running: Connector[] = [];

export async function startConnector(
  config: ConnectorConfig,
  options: { logger?: Logger; env?: Record<string, string> } = {},
): Promise<Connector> {
  const connector = await Connector.create(config, {
    logger: options.logger ?? silentLogger(),
    env: options.env ?? {},
    defaultMetrics: false,
  });
  running.push(connector);
  await connector.start();
  return connector;
}

export async function stopConnectors(): Promise<void> {
  await Promise.all(running.splice(0).map((connector) => connector.stop(0)));
}

/** Polls `predicate` every 20 ms. */
export async function waitUntil(predicate: () => boolean, label: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Test harness: a complete receiver built from config objects written to a temp directory, the same way
 * `serve` builds it. Use `inject` for in-process requests or `listen()` for a real socket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthRegistry } from '../../src/auth/registry.js';
import { formatReport } from '../../src/config/report.js';
import { outboundAllowList, readServerSettings, type ServerSettings } from '../../src/config/settings.js';
import { createModuleRegistry } from '../../src/modules/registry.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { HealthRegistry } from '../../src/receiver/health.js';
import { ReceiverRuntime } from '../../src/receiver/runtime.js';
import { createReceiver, type Receiver } from '../../src/receiver/server.js';
import { TaskPool } from '../../src/receiver/tasks.js';
import type { MessageBuffer } from '../../src/buffer/types.js';
import { createConfiguredBuffer } from '../../src/relay/configured-buffer.js';
import { createRelay, type Relay } from '../../src/relay/index.js';

export interface TestReceiverOptions {
  readonly webhooks: Record<string, unknown>;
  readonly connections?: Record<string, unknown>;
  /** Environment (settings and `{$VAR}` values). */
  readonly env?: Record<string, string>;
  /** Webhook Connect (always wired; the buffer starts when a webhook uses `webhook_connect`). */
  readonly relay?: {
    /**
     * Default: the buffer `WEBHOOK_CONNECT_BUFFER` (process environment, then `env`) selects; sqlite in
     * the harness's temp directory unless `WEBHOOK_CONNECT_SQLITE_PATH` is given.
     */
    readonly createBuffer?: () => Promise<MessageBuffer>;
    /** Sweep period, ms. Default 100 (tests use short heartbeats and ack timeouts). */
    readonly sweepIntervalMs?: number;
  };
}

export interface TestReceiver extends Receiver {
  readonly dir: string;
  readonly settings: ServerSettings;
  readonly runtime: ReceiverRuntime;
  readonly tasks: TaskPool;
  readonly relay: Relay;
  readonly health: HealthRegistry;
  /** Rewrites the config files (for reload tests). */
  writeConfig(webhooks: Record<string, unknown>, connections?: Record<string, unknown>): void;
  /** Listens on 127.0.0.1 and a free port; resolves with the base URL. */
  listen(): Promise<string>;
  /** Waits until no background task runs. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestReceiver(options: TestReceiverOptions): Promise<TestReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'wc-receiver-'));
  const webhooksFile = join(dir, 'webhooks.json');
  const connectionsFile = join(dir, 'connections.json');
  const writeConfig = (webhooks: Record<string, unknown>, connections: Record<string, unknown> = {}) => {
    writeFileSync(webhooksFile, JSON.stringify(webhooks));
    writeFileSync(connectionsFile, JSON.stringify(connections));
  };
  writeConfig(options.webhooks, options.connections);

  const env = {
    ...options.env,
    WEBHOOKS_CONFIG_FILE: webhooksFile,
    CONNECTIONS_CONFIG_FILE: connectionsFile,
  };
  const read = readServerSettings(env);
  if (!read.ok) throw new Error(formatReport(read.issues));
  const settings = read.settings;
  const logger = silentLogger();
  const metrics = createMetrics();
  const health = new HealthRegistry();
  const bufferEnv = {
    ...process.env,
    WEBHOOK_CONNECT_SQLITE_PATH: join(dir, 'webhook-connect.sqlite'),
    ...options.env,
  };
  const relay = createRelay({
    createBuffer: options.relay?.createBuffer ?? (() => createConfiguredBuffer(bufferEnv, logger)),
    logger,
    enabled: settings.WEBHOOK_CONNECT_ENABLED,
    adminToken: settings.WEBHOOK_CONNECT_ADMIN_TOKEN,
    trustedProxies: settings.TRUSTED_PROXY_IPS,
    health,
    sweepIntervalMs: options.relay?.sweepIntervalMs ?? 100,
    metricsRegistry: metrics.registry,
  });
  const runtime = new ReceiverRuntime({
    settings,
    env,
    logger,
    authRegistry: createAuthRegistry(),
    moduleRegistry: createModuleRegistry(),
    moduleDeps: { logger, outbound: { allowedHosts: outboundAllowList(settings) }, relay: relay.service },
    channels: relay.service,
    onDelivery: (module, result, ms) =>
      metrics.observeDelivery(module, result.success ? 'success' : 'permanent_failure', ms / 1000),
  });
  const issues = await runtime.load();
  if (issues.length > 0) {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(formatReport(issues));
  }
  const tasks = new TaskPool({
    maxConcurrent: settings.MAX_CONCURRENT_TASKS,
    timeoutMs: settings.TASK_TIMEOUT * 1000,
    slotWaitMs: settings.TASK_SLOT_WAIT_SECONDS * 1000,
    onError: () => {},
  });
  metrics.trackTasks(() => tasks.stats);
  const receiver = createReceiver({
    settings,
    logger,
    runtime,
    tasks,
    metrics,
    health,
    extraRoutes: [(app) => relay.routes(app)],
  });
  relay.attach(receiver.app.server);
  await receiver.app.ready();

  return {
    ...receiver,
    dir,
    settings,
    runtime,
    tasks,
    relay,
    health,
    writeConfig,
    async listen() {
      await receiver.app.listen({ host: '127.0.0.1', port: 0 });
      const address = receiver.app.server.address();
      if (address === null || typeof address !== 'object') throw new Error('not listening');
      return `http://127.0.0.1:${address.port}`;
    },
    async idle() {
      while (tasks.stats.active > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    async stop() {
      await relay.closeSessions();
      await receiver.app.close();
      receiver.close();
      await tasks.drain(1000);
      await runtime.close();
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

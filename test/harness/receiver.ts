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

export interface TestReceiverOptions {
  readonly webhooks: Record<string, unknown>;
  readonly connections?: Record<string, unknown>;
  /** Environment (settings and `{$VAR}` values). */
  readonly env?: Record<string, string>;
}

export interface TestReceiver extends Receiver {
  readonly dir: string;
  readonly settings: ServerSettings;
  readonly runtime: ReceiverRuntime;
  readonly tasks: TaskPool;
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
  const runtime = new ReceiverRuntime({
    settings,
    env,
    logger,
    authRegistry: createAuthRegistry(),
    moduleRegistry: createModuleRegistry(),
    moduleDeps: { logger, outbound: { allowedHosts: outboundAllowList(settings) } },
    onDelivery: (module, result, ms) =>
      metrics.observeDelivery(module, result.success ? 'success' : 'permanent_failure', ms / 1000),
  });
  const issues = await runtime.load();
  if (issues.length > 0) {
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
  const health = new HealthRegistry();
  const receiver = createReceiver({ settings, logger, runtime, tasks, metrics, health });
  await receiver.app.ready();

  return {
    ...receiver,
    dir,
    settings,
    runtime,
    tasks,
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
      await receiver.app.close();
      receiver.close();
      await tasks.drain(1000);
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

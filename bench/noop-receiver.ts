/**
 * A receiver built exactly as `webhook-connect serve` builds it (src/cli/serve.ts: settings from the
 * environment and flags, the same runtime, relay, task pool and Fastify app), except that the module
 * registry it creates also holds a `bench_noop` module: synchronous (the receiver awaits it, like
 * `webhook_connect`) and doing nothing. The product's module set is unchanged; this file exists only so
 * the ingest benchmark can measure the receiver's own cost per request with no buffer and no output.
 *
 * Usage: node --import tsx bench/noop-receiver.ts (the benchmarks run its tsc build) --host 127.0.0.1 --port 0 --webhooks F --connections F
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createAuthRegistry } from '../src/auth/registry.js';
import { formatReport } from '../src/config/report.js';
import { outboundAllowList, readServerSettings } from '../src/config/settings.js';
import { createModuleRegistry } from '../src/modules/registry.js';
import type { ModuleDescriptor } from '../src/modules/types.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { HealthRegistry } from '../src/receiver/health.js';
import { ReceiverRuntime } from '../src/receiver/runtime.js';
import { createReceiver } from '../src/receiver/server.js';
import { TaskPool } from '../src/receiver/tasks.js';
import { createConfiguredBuffer } from '../src/relay/configured-buffer.js';
import { createRelay } from '../src/relay/index.js';

/** Accepts any `module-config`, delivers nowhere. */
export const noopModule: ModuleDescriptor<Record<string, unknown>> = {
  type: 'bench_noop',
  schema: z.record(z.string(), z.unknown()),
  secretFields: [],
  synchronous: true,
  create: () => ({ deliver: async () => {}, close: async () => {} }),
};

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    webhooks: { type: 'string' },
    connections: { type: 'string' },
  },
  strict: true,
});
const flags: Record<string, string> = {};
for (const [name, value] of Object.entries(values)) if (value !== undefined) flags[name] = value;
const read = readServerSettings(process.env, flags);
if (!read.ok) {
  process.stderr.write(`${formatReport(read.issues)}\n`);
  process.exit(1);
}
const settings = read.settings;
const logger = createLogger();
const metrics = createMetrics();
const health = new HealthRegistry();
const relay = createRelay({
  createBuffer: () => createConfiguredBuffer(process.env, logger),
  logger,
  enabled: settings.WEBHOOK_CONNECT_ENABLED,
  adminToken: settings.WEBHOOK_CONNECT_ADMIN_TOKEN,
  trustedProxies: settings.TRUSTED_PROXY_IPS,
  health,
});
const moduleRegistry = createModuleRegistry();
moduleRegistry.register(noopModule as ModuleDescriptor<never>);
const runtime = new ReceiverRuntime({
  settings,
  env: process.env,
  logger,
  authRegistry: createAuthRegistry(),
  moduleRegistry,
  moduleDeps: { logger, outbound: { allowedHosts: outboundAllowList(settings) }, relay: relay.service },
  channels: relay.service,
  onDelivery: (module, result, durationMs) =>
    metrics.observeDelivery(module, result.success ? 'success' : 'transient_failure', durationMs / 1000),
});
const issues = await runtime.load();
if (issues.length > 0) {
  process.stderr.write(`${formatReport(issues)}\n`);
  process.exit(1);
}
const tasks = new TaskPool({
  maxConcurrent: settings.MAX_CONCURRENT_TASKS,
  timeoutMs: settings.TASK_TIMEOUT * 1000,
  slotWaitMs: settings.TASK_SLOT_WAIT_SECONDS * 1000,
  onError: (error) => logger.error({ err: error }, 'background task failed'),
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
await receiver.app.listen({ host: settings.HOST, port: settings.PORT });
const address = receiver.app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : settings.PORT;
console.log(`listening on http://${settings.HOST}:${port}`);

process.once('SIGTERM', () => {
  void (async () => {
    await relay.closeSessions();
    await receiver.app.close();
    receiver.close();
    await tasks.drain(2000);
    await runtime.close();
    await relay.close();
    process.exit(0);
  })();
});

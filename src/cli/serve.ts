/**
 * `serve` and `config check`: read settings (environment + flags), load and compile the configuration,
 * then either report (check) or start the receiver (serve) with graceful shutdown and optional live
 * reload. Invalid configuration prints every issue with its path and exits 1 without serving.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createAuthRegistry } from '../auth/registry.js';
import type { ConfigIssue } from '../config/issues.js';
import { formatReport } from '../config/report.js';
import type { SERVE_FLAGS } from '../config/settings.js';
import { outboundAllowList, readServerSettings, type ServerSettings } from '../config/settings.js';
import { watchConfigFiles } from '../config/watch.js';
import { createModuleRegistry } from '../modules/registry.js';
import type { ModuleDescriptor } from '../modules/types.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { HealthRegistry } from '../receiver/health.js';
import { ReceiverRuntime } from '../receiver/runtime.js';
import { createReceiver } from '../receiver/server.js';
import { TaskPool } from '../receiver/tasks.js';
import { collectChannels } from '../relay/channels.js';
import { createConfiguredBuffer } from '../relay/configured-buffer.js';
import { createRelay, type Relay } from '../relay/index.js';

function parseServeFlags(args: readonly string[]) {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      webhooks: { type: 'string' },
      connections: { type: 'string' },
      watch: { type: 'boolean' },
      'max-body-bytes': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
    },
    strict: true,
  });
  const flags: Partial<Record<keyof typeof SERVE_FLAGS, string>> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) flags[name as keyof typeof SERVE_FLAGS] = String(value);
  }
  return flags;
}

function report(issues: readonly ConfigIssue[]): void {
  process.stderr.write(`${formatReport(issues)}\n`);
}

function settingsOrReport(args: readonly string[], env: NodeJS.ProcessEnv): ServerSettings | number {
  let flags;
  try {
    flags = parseServeFlags(args);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const result = readServerSettings(env, flags);
  if (!result.ok) {
    report(result.issues);
    return 1;
  }
  return result.settings;
}

function createRuntime(
  settings: ServerSettings,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  metrics?: Metrics,
  relay?: Relay,
  extraModules: readonly ModuleDescriptor<never>[] = [],
) {
  const moduleRegistry = createModuleRegistry();
  for (const module of extraModules) moduleRegistry.register(module);
  return new ReceiverRuntime({
    settings,
    env,
    logger,
    authRegistry: createAuthRegistry(),
    moduleRegistry,
    moduleDeps: {
      logger,
      outbound: { allowedHosts: outboundAllowList(settings) },
      ...(relay === undefined ? {} : { relay: relay.service }),
    },
    // `config check` validates channel definitions without starting a buffer.
    channels: relay?.service ?? {
      validate: (webhooks, file) => collectChannels(webhooks, file).issues,
      apply: async () => {},
    },
    ...(metrics === undefined
      ? {}
      : {
          onDelivery: (module, result, durationMs) =>
            metrics.observeDelivery(
              module,
              result.success
                ? 'success'
                : result.retryable === false
                  ? 'permanent_failure'
                  : 'transient_failure',
              durationMs / 1000,
            ),
        }),
  });
}

export async function runConfigCheck(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const settings = settingsOrReport(args, env);
  if (typeof settings === 'number') return settings;
  const logger = createLogger({ level: env.LOG_LEVEL ?? 'warn' });
  const runtime = createRuntime(settings, env, logger);
  const issues = await runtime.load();
  await runtime.close();
  if (issues.length > 0) {
    report(issues);
    return 1;
  }
  const { webhooks, config } = runtime.current;
  console.log(
    `configuration is valid: ${webhooks.size} webhook(s) in ${settings.WEBHOOKS_CONFIG_FILE}, ` +
      `${Object.keys(config.connections).length} connection(s) in ${settings.CONNECTIONS_CONFIG_FILE}`,
  );
  return 0;
}

export interface ServeOptions {
  /** Modules registered beside the product's (the benchmarks' no-op module). Default none. */
  readonly extraModules?: readonly ModuleDescriptor<never>[];
}

export async function runServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: ServeOptions = {},
): Promise<number> {
  const settings = settingsOrReport(args, env);
  if (typeof settings === 'number') return settings;
  const logger = createLogger();
  const metrics = createMetrics();
  const health = new HealthRegistry();
  // Webhook Connect: the buffer starts when a webhook uses `webhook_connect` (or WEBHOOK_CONNECT_ENABLED).
  const relay = createRelay({
    createBuffer: () => createConfiguredBuffer(env, logger),
    logger,
    enabled: settings.WEBHOOK_CONNECT_ENABLED,
    adminToken: settings.WEBHOOK_CONNECT_ADMIN_TOKEN,
    trustedProxies: settings.TRUSTED_PROXY_IPS,
    health,
    metricsRegistry: metrics.registry,
  });
  const runtime = createRuntime(settings, env, logger, metrics, relay, options.extraModules);
  const issues = await runtime.load();
  if (issues.length > 0) {
    report(issues);
    await runtime.close();
    await relay.close();
    return 1;
  }

  const tasks = new TaskPool({
    maxConcurrent: settings.MAX_CONCURRENT_TASKS,
    timeoutMs: settings.TASK_TIMEOUT * 1000,
    slotWaitMs: settings.TASK_SLOT_WAIT_SECONDS * 1000,
    onError: (error) => logger.error({ err: error }, 'background task failed'),
  });
  metrics.trackTasks(() => tasks.stats);
  health.register('config_manager', () => {
    const failure = runtime.status.lastFailure;
    return failure === undefined
      ? { status: 'healthy' }
      : { status: 'degraded', detail: 'the last reload failed; the previous configuration is serving' };
  });
  health.register('task_queue', () => {
    const { active, maxConcurrent, waiting } = tasks.stats;
    return active >= maxConcurrent && waiting > 0
      ? { status: 'degraded', detail: 'all background task slots are busy' }
      : { status: 'healthy' };
  });

  let tls: { key: Buffer; cert: Buffer } | undefined;
  if (settings.TLS_CERT_FILE !== undefined && settings.TLS_KEY_FILE !== undefined) {
    try {
      tls = { cert: readFileSync(settings.TLS_CERT_FILE), key: readFileSync(settings.TLS_KEY_FILE) };
    } catch (error) {
      report([
        {
          file: 'environment',
          path: ['TLS_CERT_FILE'],
          message: `cannot read TLS files: ${(error as Error).message}`,
        },
      ]);
      return 1;
    }
  }

  const receiver = createReceiver({
    settings,
    logger,
    runtime,
    tasks,
    metrics,
    health,
    ...(tls === undefined ? {} : { tls }),
    extraRoutes: [(app) => relay.routes(app)],
  });
  relay.attach(receiver.app.server);
  try {
    await receiver.app.listen({ host: settings.HOST, port: settings.PORT });
  } catch (error) {
    logger.fatal({ err: error }, 'cannot listen');
    await runtime.close();
    await relay.close();
    return 1;
  }
  const address = receiver.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.PORT;
  logger.info(
    {
      host: settings.HOST,
      port,
      tls: tls !== undefined,
      webhooks: runtime.current.webhooks.size,
      webhook_connect_buffer: relay.service.buffer?.kind ?? 'off',
    },
    `webhook-connect listening on ${tls === undefined ? 'http' : 'https'}://${settings.HOST}:${port}`,
  );

  const watcher = settings.CONFIG_FILE_WATCHING_ENABLED
    ? watchConfigFiles([settings.WEBHOOKS_CONFIG_FILE, settings.CONNECTIONS_CONFIG_FILE], {
        debounceMs: settings.CONFIG_RELOAD_DEBOUNCE_SECONDS * 1000,
        logger,
        onChange: (changed) => {
          void runtime.reload().then((outcome) => {
            if (!outcome.ok) {
              logger.error(
                { changed, issues: outcome.issues.length },
                `reload failed; keeping the previous configuration\n${formatReport(outcome.issues)}`,
              );
            }
          });
        },
      })
    : undefined;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      watcher?.close();
      // Sessions first (SSE streams and polls would hold app.close); the buffer stays open until the
      // requests in progress have been answered.
      await relay.closeSessions();
      await receiver.app.close();
      receiver.close();
      await tasks.drain(settings.SHUTDOWN_TIMEOUT_SECONDS * 1000);
      await runtime.close();
      await relay.close();
      logger.info('stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}

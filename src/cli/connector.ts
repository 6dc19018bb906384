/**
 * `webhook-connect connector`: runs the local connector (docs/connector.md). Settings come from the
 * `--config` file (JSON or YAML), `CONNECTOR_*` environment variables and flags — a flag overrides only
 * when it is given. Exit codes: 0 after a graceful stop (SIGINT/SIGTERM), 1 invalid configuration or
 * fatal error, 2 usage error. A second signal during shutdown aborts the deliveries still running.
 */
import { ConfigError } from '../config/issues.js';
import { formatReport } from '../config/report.js';
import { loadConnectorConfig, type ConnectorFlags } from '../connector/config.js';
import { Connector } from '../connector/connector.js';
import { createLogger } from '../observability/logger.js';

export const CONNECTOR_USAGE = `Usage: webhook-connect connector [options]

Options (each overrides the config file and the environment only when given):
  -c, --config <file>          connector.json or .yaml
  --cloud-url <url>            relay base URL              (CONNECTOR_CLOUD_URL)
  --channel <name>             channel                     (CONNECTOR_CHANNEL)
  --token <token>              channel token; prefer CONNECTOR_TOKEN (flags show in the process list)
  --protocol <p>               websocket | sse | long_poll (CONNECTOR_PROTOCOL, default websocket)
  --target-url <url>           HTTP mode default target    (CONNECTOR_TARGET_URL)
  --webhooks-config <file>     module mode webhooks file   (CONNECTOR_WEBHOOKS_CONFIG)
  --connections-config <file>  module mode connections     (CONNECTOR_CONNECTIONS_CONFIG)
  --connector-id <id>          sent as X-Connector-ID      (CONNECTOR_ID)
  --log-level <level>          DEBUG | INFO | WARNING | ERROR (CONNECTOR_LOG_LEVEL, default INFO)
  --no-verify-ssl              do not verify the relay's certificate
  --status-port <port>         serve /health and /metrics on 127.0.0.1:<port>

Every field: docs/connector.md`;

const VALUE_FLAGS: Readonly<Record<string, keyof ConnectorFlags>> = {
  '--config': 'config',
  '-c': 'config',
  '--cloud-url': 'cloud_url',
  '--channel': 'channel',
  '--token': 'token',
  '--protocol': 'protocol',
  '--target-url': 'target_url',
  '--webhooks-config': 'webhooks_config',
  '--connections-config': 'connections_config',
  '--connector-id': 'connector_id',
  '--log-level': 'log_level',
  '--status-port': 'status_port',
};

/** Parses the flags; a string is a usage error. */
export function parseConnectorArgs(args: readonly string[]): ConnectorFlags | string | 'help' {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--no-verify-ssl') {
      flags.verify_ssl = false;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg;
    const field = VALUE_FLAGS[name];
    if (field === undefined) return `unknown option '${arg}'`;
    const value = eq !== -1 && name !== arg ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) return `option '${name}' needs a value`;
    flags[field] = value;
  }
  return flags as ConnectorFlags;
}

const PINO_LEVELS = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error' } as const;

export async function runConnector(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const flags = parseConnectorArgs(args);
  if (flags === 'help') {
    console.log(CONNECTOR_USAGE);
    return 0;
  }
  if (typeof flags === 'string') {
    console.error(`${flags}\n\n${CONNECTOR_USAGE}`);
    return 2;
  }
  const loaded = loadConnectorConfig({ flags, env });
  if (!loaded.ok) {
    console.error(formatReport(loaded.issues));
    return 1;
  }
  const { config } = loaded;
  const logger = createLogger({
    level: env.LOG_LEVEL ?? PINO_LEVELS[config.log_level],
    name: 'webhook-connect-connector',
  });
  for (const warning of loaded.warnings) logger.warn(warning);
  if (flags.token !== undefined)
    logger.warn('--token is visible in the process list; prefer CONNECTOR_TOKEN');

  let connector: Connector;
  try {
    connector = await Connector.create(config, { logger, env });
    await connector.start();
  } catch (error) {
    if (error instanceof ConfigError) console.error(formatReport(error.issues));
    else console.error(`connector failed to start: ${(error as Error).message}`);
    return 1;
  }

  let signals = 0;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      logger.info({ signal }, signals === 1 ? 'stopping gracefully' : 'second signal: aborting deliveries');
      if (signals > 1) connector.abortDeliveries();
      void connector.stop().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}

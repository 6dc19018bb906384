/**
 * The connector's configuration (reference spec §7.1, §7.2): one zod schema declares every field and its
 * default; the loader merges four layers and validates the result once.
 *
 * Precedence, lowest first: defaults < the file (`--config`, JSON or YAML, `{$VAR}` substituted) <
 * environment variables (`CONNECTOR_*`, only non-empty values count) < command-line flags that were
 * actually given. (The reference let CLI defaults override the file and ignored the environment whenever
 * `--config` was given — §10.2 item 19; both are fixed here.)
 *
 * Every problem is reported with the source it came from and its path (`connector.json › targets ›
 * github › url: required`, `environment › CONNECTOR_MAX_CONCURRENT_REQUESTS: expected integer`), then the
 * result is frozen.
 */
import { isAbsolute, dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../config/files.js';
import type { ConfigIssue } from '../config/issues.js';
import { issuesFromZod } from '../config/report.js';
import { substituteVariables } from '../config/substitute.js';
import { isValidChannelName } from '../protocol/frames.js';
import { boolLike, intLike, numberLike } from '../shared/config-fields.js';

/** A positive finite number of seconds. */
const seconds = () => numberLike().pipe(z.number().gt(0).max(86_400));

/** Optional string: `null` and absence both mean "not set". */
const optionalString = () => z.string().min(1, 'must not be empty').nullish();

/**
 * One local HTTP target (spec §7.1 TargetConfig). Unknown keys are errors. `verify_ssl` and
 * `ca_cert_path` are additive: TLS to local targets is configured here, separately from the cloud side.
 */
export const targetSchema = z
  .object({
    /** Target URL (`http://` or `https://`). Required. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    /** HTTP method. Default `POST`. */
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, 'must be an HTTP method')
      .transform((value) => value.toUpperCase())
      .default('POST'),
    /** Extra request headers; they win over the webhook's own headers. Default `{}`. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Per-attempt timeout in seconds (connect + response). Default 30. */
    timeout_seconds: seconds().default(30),
    /** Retry transient failures. `false` = exactly one attempt. Default true. */
    retry_enabled: boolLike().default(true),
    /** Attempts in total (first one included) when retrying. Default 3. */
    retry_max_attempts: intLike().pipe(z.int().min(1).max(100)).default(3),
    /** Delay before the second attempt, in seconds. Default 1. */
    retry_delay_seconds: numberLike().pipe(z.number().min(0).max(3600)).default(1),
    /** Growth of the delay per attempt (capped at 60 s). Default 2. */
    retry_backoff_multiplier: numberLike().pipe(z.number().min(1).max(10)).default(2),
    /** Additive: verify the target's TLS certificate. Default true. */
    verify_ssl: boolLike().default(true),
    /** Additive: CA bundle (PEM) for the target's certificate. Default none (system CAs). */
    ca_cert_path: optionalString(),
  })
  .strict();

export type TargetConfig = z.output<typeof targetSchema>;

export const PROTOCOLS = ['websocket', 'sse', 'long_poll'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;

/** The connector file (spec §7.1 plus additive fields, each marked). Unknown top-level keys are ignored. */
export const connectorSchema = z.object({
  /** Relay base URL, `http(s)://host[:port]`. Required. */
  cloud_url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  /** Channel name. Required. */
  channel: z.string().refine(isValidChannelName, 'must match ^[a-zA-Z0-9][a-zA-Z0-9._-]*$ without ..'),
  /** Channel token (sent as `Authorization: Bearer`). Required. */
  token: z.string().min(1, 'required'),
  /** `websocket` (default), `sse` or `long_poll`. */
  protocol: z.enum(PROTOCOLS).default('websocket'),
  /** First reconnect delay in seconds. Default 1. */
  reconnect_delay: seconds().default(1),
  /** Upper bound of the reconnect delay in seconds. Default 60. */
  max_reconnect_delay: seconds().default(60),
  /** Growth of the reconnect delay. Default 2. */
  reconnect_backoff_multiplier: numberLike().pipe(z.number().min(1).max(10)).default(2),
  /** Seconds without any frame from the relay before the connection is replaced. Default 60. */
  heartbeat_timeout: seconds().default(60),
  /** Seconds to establish a connection (TCP + TLS + handshake). Default 30. */
  connection_timeout: seconds().default(30),
  /** Deliveries in progress at once; more messages wait. Default 10. */
  max_concurrent_requests: intLike().pipe(z.int().min(1).max(10_000)).default(10),
  /** Accepted for compatibility; unused (the relay owns the lease). Default 30. */
  ack_timeout: seconds().default(30),
  /** HTTP mode: target for webhooks without their own entry in `targets`. Default none. */
  default_target: targetSchema.nullish(),
  /** HTTP mode: `webhook_id → target`. Default `{}`. */
  targets: z.record(z.string(), targetSchema).default({}),
  /** `DEBUG`, `INFO` (default), `WARNING` or `ERROR`; case-insensitive, an unknown value means INFO. */
  log_level: z
    .string()
    .transform((value) => {
      const upper = value.toUpperCase();
      return (LOG_LEVELS as readonly string[]).includes(upper)
        ? (upper as (typeof LOG_LEVELS)[number])
        : 'INFO';
    })
    .default('INFO'),
  /** Accepted for compatibility and ignored: logs are JSON lines (pretty on a terminal). */
  log_format: z.string().nullish(),
  /** Verify the relay's TLS certificate. Default true. Applies to the cloud side only. */
  verify_ssl: boolLike().default(true),
  /** CA bundle (PEM) for the relay's certificate, in addition to the system CAs. Default none. */
  ca_cert_path: optionalString(),
  /** Client certificate (PEM) for mutual TLS to the relay. Default none. */
  client_cert_path: optionalString(),
  /** Key of the client certificate (PEM). Default none. */
  client_key_path: optionalString(),
  /** Sent as `X-Connector-ID`. Default none. */
  connector_id: optionalString(),
  /** Module mode: the receiver-format webhooks file. Default none. */
  webhooks_config: optionalString(),
  /** Module mode: the receiver-format connections file. Default none. */
  connections_config: optionalString(),
  /** etcd mode is not supported by this build; setting it is an error. */
  etcd_host: optionalString(),
  /** Accepted for compatibility (etcd mode). Default 2379. */
  etcd_port: intLike().pipe(z.int().min(1).max(65_535)).default(2379),
  /** Accepted for compatibility (etcd mode). Default `/cwm/`. */
  etcd_prefix: z.string().default('/cwm/'),
  /** Accepted for compatibility (etcd mode). Default none. */
  namespace: optionalString(),
  /** Additive: dedup window size in message ids. 0 disables. Default 10000. */
  dedup_window_size: intLike().pipe(z.int().min(0).max(10_000_000)).default(10_000),
  /** Additive: how long a message id stays in the dedup window, in seconds. Default 3600. */
  dedup_window_seconds: seconds().default(3600),
  /** Additive: on SIGINT/SIGTERM, seconds to let in-flight deliveries finish before they are nacked. Default 30. */
  shutdown_timeout: numberLike().pipe(z.number().min(0).max(3600)).default(30),
  /** Additive: long-poll `timeout` query parameter, 1..60 seconds. Default 30. */
  poll_timeout: intLike().pipe(z.int().min(1).max(60)).default(30),
  /** Additive: long-poll `max_messages`, 1..100. Default 10. */
  poll_max_messages: intLike().pipe(z.int().min(1).max(100)).default(10),
  /** Additive: module mode, skip chain steps that already succeeded when a message is redelivered. Default true. */
  remember_succeeded_steps: boolLike().default(true),
  /** Additive: port of the local `/health` and `/metrics` server. Default none (no server). */
  status_port: intLike().pipe(z.int().min(0).max(65_535)).nullish(),
  /** Additive: address of the status server. Default `127.0.0.1`. */
  status_host: z.string().min(1).default('127.0.0.1'),
});

type Parsed = z.output<typeof connectorSchema>;

/** The validated, frozen connector configuration. */
export interface ConnectorConfig extends Parsed {
  /** `http` (targets) or `module` (webhooks_config). */
  readonly delivery_mode: 'http' | 'module';
}

/** Command-line flags (each overrides file and environment only when given). */
export interface ConnectorFlags {
  readonly config?: string;
  readonly cloud_url?: string;
  readonly channel?: string;
  readonly token?: string;
  readonly target_url?: string;
  readonly protocol?: string;
  readonly log_level?: string;
  readonly connector_id?: string;
  readonly verify_ssl?: boolean;
  readonly webhooks_config?: string;
  readonly connections_config?: string;
  readonly status_port?: string;
}

export type ConnectorConfigResult =
  | { readonly ok: true; readonly config: ConnectorConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** `CONNECTOR_*` variables (spec §7.2) and the field each sets. */
export const ENV_FIELDS: Readonly<Record<string, keyof Parsed>> = {
  CONNECTOR_CLOUD_URL: 'cloud_url',
  CONNECTOR_CHANNEL: 'channel',
  CONNECTOR_TOKEN: 'token',
  CONNECTOR_PROTOCOL: 'protocol',
  CONNECTOR_RECONNECT_DELAY: 'reconnect_delay',
  CONNECTOR_MAX_RECONNECT_DELAY: 'max_reconnect_delay',
  CONNECTOR_HEARTBEAT_TIMEOUT: 'heartbeat_timeout',
  CONNECTOR_CONNECTION_TIMEOUT: 'connection_timeout',
  CONNECTOR_MAX_CONCURRENT_REQUESTS: 'max_concurrent_requests',
  CONNECTOR_ACK_TIMEOUT: 'ack_timeout',
  CONNECTOR_LOG_LEVEL: 'log_level',
  CONNECTOR_VERIFY_SSL: 'verify_ssl',
  CONNECTOR_CA_CERT_PATH: 'ca_cert_path',
  CONNECTOR_CLIENT_CERT_PATH: 'client_cert_path',
  CONNECTOR_CLIENT_KEY_PATH: 'client_key_path',
  CONNECTOR_ID: 'connector_id',
  CONNECTOR_WEBHOOKS_CONFIG: 'webhooks_config',
  CONNECTOR_CONNECTIONS_CONFIG: 'connections_config',
  CONNECTOR_ETCD_HOST: 'etcd_host',
  CONNECTOR_ETCD_PORT: 'etcd_port',
  CONNECTOR_ETCD_PREFIX: 'etcd_prefix',
  CONNECTOR_NAMESPACE: 'namespace',
};

const PATH_FIELDS = [
  'ca_cert_path',
  'client_cert_path',
  'client_key_path',
  'webhooks_config',
  'connections_config',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const value = Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Loads, merges and validates the configuration. Relative paths inside the file (certificates, module
 * files) are resolved against the file's directory; those from the environment and flags against the
 * working directory.
 */
export function loadConnectorConfig(options: {
  readonly flags: ConnectorFlags;
  readonly env: Env;
  readonly cwd?: string;
}): ConnectorConfigResult {
  const { flags, env } = options;
  const cwd = options.cwd ?? process.cwd();
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const merged: Record<string, unknown> = {};
  /** Where each top-level field's value came from, to locate its errors. */
  const origin = new Map<string, { file: string; path: (string | number)[] }>();

  let fileLabel = 'connector config';
  if (flags.config !== undefined) {
    const filePath = resolvePath(cwd, flags.config);
    fileLabel = filePath.split(/[\\/]/).pop() ?? filePath;
    const read = readConfigFile(filePath, fileLabel);
    if (!read.ok) return { ok: false, issues: [read.issue] };
    const substituted = substituteVariables(read.data, env, fileLabel);
    issues.push(...substituted.issues);
    const data = substituted.value as Record<string, unknown>;
    const known = new Set(Object.keys(connectorSchema.shape));
    for (const [key, value] of Object.entries(data)) {
      if (!known.has(key)) {
        if (!key.startsWith('_') && !key.startsWith('//'))
          warnings.push(`${fileLabel}: unknown key '${key}' ignored`);
        continue;
      }
      // null means "not set" for every top-level field (reference: null allowed).
      if (value === null) continue;
      merged[key] =
        typeof value === 'string' && (PATH_FIELDS as readonly string[]).includes(key) && !isAbsolute(value)
          ? resolvePath(dirname(filePath), value)
          : value;
      origin.set(key, { file: fileLabel, path: [key] });
    }
  }

  for (const [name, field] of Object.entries(ENV_FIELDS)) {
    const raw = envValue(env, name);
    if (raw === undefined) continue;
    let value: unknown = raw;
    if (field === 'verify_ssl') value = raw.trim().toLowerCase() === 'true';
    else if ((PATH_FIELDS as readonly string[]).includes(field)) value = resolvePath(cwd, raw);
    merged[field] = value;
    origin.set(field, { file: 'environment', path: [name] });
  }
  const envTarget = envValue(env, 'CONNECTOR_TARGET_URL');
  if (envTarget !== undefined) {
    merged.default_target = {
      url: envTarget,
      method: envValue(env, 'CONNECTOR_TARGET_METHOD') ?? 'POST',
      timeout_seconds: envValue(env, 'CONNECTOR_TARGET_TIMEOUT') ?? 30,
    };
    origin.set('default_target', { file: 'environment', path: ['CONNECTOR_TARGET_URL'] });
  }

  const flagFields: [keyof ConnectorFlags, keyof Parsed, string][] = [
    ['cloud_url', 'cloud_url', '--cloud-url'],
    ['channel', 'channel', '--channel'],
    ['token', 'token', '--token'],
    ['protocol', 'protocol', '--protocol'],
    ['log_level', 'log_level', '--log-level'],
    ['connector_id', 'connector_id', '--connector-id'],
    ['verify_ssl', 'verify_ssl', '--no-verify-ssl'],
    ['webhooks_config', 'webhooks_config', '--webhooks-config'],
    ['connections_config', 'connections_config', '--connections-config'],
    ['status_port', 'status_port', '--status-port'],
  ];
  for (const [flag, field, name] of flagFields) {
    const value = flags[flag];
    if (value === undefined) continue;
    merged[field] =
      typeof value === 'string' && (PATH_FIELDS as readonly string[]).includes(field)
        ? resolvePath(cwd, value)
        : value;
    origin.set(field, { file: 'command line', path: [name] });
  }
  if (flags.target_url !== undefined) {
    merged.default_target = { url: flags.target_url };
    origin.set('default_target', { file: 'command line', path: ['--target-url'] });
  }

  const locate = (path: readonly (string | number)[], message: string): ConfigIssue => {
    const [field, ...rest] = path;
    const source = field === undefined ? undefined : origin.get(String(field));
    if (source === undefined) return { file: fileLabel, path, message };
    // Environment and flags: name the variable or flag; the file: keep the full path.
    return source.file === fileLabel
      ? { file: fileLabel, path, message }
      : { file: source.file, path: [...source.path, ...rest], message };
  };

  const parsed = connectorSchema.safeParse(merged, { reportInput: true });
  if (!parsed.success) {
    for (const issue of issuesFromZod(parsed.error, fileLabel)) {
      const missing = !origin.has(String(issue.path[0] ?? ''));
      issues.push(locate(issue.path, missing && issue.path.length === 1 ? 'required' : issue.message));
    }
    return { ok: false, issues };
  }
  if (issues.length > 0) return { ok: false, issues };

  const config = parsed.data;
  const fail = (field: string, message: string) => issues.push(locate([field], message));
  const hasTargets = config.default_target != null || Object.keys(config.targets).length > 0;
  const modes = [hasTargets, config.webhooks_config != null, config.etcd_host != null].filter(Boolean).length;
  if (modes === 0) {
    issues.push({
      file: fileLabel,
      path: [],
      message: 'either default_target/targets, webhooks_config, or etcd_host must be configured',
    });
  } else if (modes > 1) {
    issues.push({
      file: fileLabel,
      path: [],
      message: 'only one delivery mode allowed: HTTP targets, webhooks_config, or etcd_host',
    });
  }
  if (config.etcd_host != null) fail('etcd_host', 'etcd mode is not supported by this build');
  if (config.connections_config != null && config.webhooks_config == null) {
    fail('connections_config', 'needs webhooks_config (module mode)');
  }
  if (config.max_reconnect_delay < config.reconnect_delay) {
    fail('max_reconnect_delay', 'must be >= reconnect_delay');
  }
  if ((config.client_cert_path == null) !== (config.client_key_path == null)) {
    fail(
      config.client_cert_path == null ? 'client_cert_path' : 'client_key_path',
      'client_cert_path and client_key_path go together',
    );
  }
  if (issues.length > 0) return { ok: false, issues };

  const result: ConnectorConfig = {
    ...config,
    delivery_mode: config.webhooks_config != null ? 'module' : 'http',
  };
  return { ok: true, config: deepFreeze(result), warnings };
}

/** The settings safe to show (status output, startup banner): never the token. */
export function describeConfig(config: ConnectorConfig): Record<string, unknown> {
  return {
    cloud_url: config.cloud_url,
    channel: config.channel,
    protocol: config.protocol,
    delivery_mode: config.delivery_mode,
    connector_id: config.connector_id ?? null,
    max_concurrent_requests: config.max_concurrent_requests,
    heartbeat_timeout: config.heartbeat_timeout,
    verify_ssl: config.verify_ssl,
    targets_count: Object.keys(config.targets).length,
    has_default_target: config.default_target != null,
    has_webhooks_config: config.webhooks_config != null,
  };
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}

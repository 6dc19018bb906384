/**
 * Server settings of `webhook-connect serve`: the reference's environment variables (spec §1.7) plus
 * ours, each with an equivalent flag. A flag wins over the environment only when it is given. Invalid
 * values are config issues located at the variable name, never silently replaced by a default.
 */
import { z } from 'zod';
import { boolLike, intLike, numberLike } from '../shared/config-fields.js';
import { parseIpRange, type IpRange } from '../shared/ip.js';
import type { ConfigIssue } from './issues.js';
import { issuesFromZod } from './report.js';

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

const ipRangeList = commaList.transform((items, ctx) => {
  const ranges: IpRange[] = [];
  for (const item of items) {
    const range = parseIpRange(item);
    if (range === undefined)
      ctx.addIssue({ code: 'custom', message: `'${item}' is not an IP address or CIDR range` });
    else ranges.push(range);
  }
  return ranges;
});

const optionalSecret = z
  .string()
  .transform((value) => value.trim())
  .transform((value) => (value === '' ? undefined : value));

/** Every setting, keyed by environment variable name. */
export const settingsSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  /** 0 picks a free port (logged at startup). */
  PORT: intLike().pipe(z.int().min(0).max(65535)).default(8000),
  WEBHOOKS_CONFIG_FILE: z.string().min(1).default('webhooks.json'),
  CONNECTIONS_CONFIG_FILE: z.string().min(1).default('connections.json'),
  CONFIG_BACKEND: z.enum(['file']).default('file'),
  CONFIG_FILE_WATCHING_ENABLED: boolLike().default(false),
  CONFIG_RELOAD_DEBOUNCE_SECONDS: numberLike().pipe(z.number().min(0.1).max(3600)).default(3),
  CONFIG_RELOAD_ADMIN_TOKEN: optionalSecret.optional(),
  STATS_AUTH_TOKEN: optionalSecret.optional(),
  STATS_ALLOWED_IPS: ipRangeList.default([]),
  STATS_RATE_LIMIT: intLike().pipe(z.int().min(1).max(1_000_000)).default(60),
  STATS_SANITIZE_IDS: boolLike().default(false),
  /** Requests per minute per client address to /admin/reload-config and /admin/config-status. */
  ADMIN_RATE_LIMIT: intLike().pipe(z.int().min(1).max(1_000_000)).default(30),
  DEFAULT_ENDPOINT_RATE_LIMIT: intLike().pipe(z.int().min(1).max(1_000_000)).default(120),
  TRUSTED_PROXY_IPS: ipRangeList.default([]),
  MAX_CONCURRENT_TASKS: intLike().pipe(z.int().min(1).max(10_000)).default(100),
  TASK_TIMEOUT: numberLike().pipe(z.number().min(0.1).max(3600)).default(300),
  TASK_SLOT_WAIT_SECONDS: numberLike().pipe(z.number().min(0).max(300)).default(10),
  MAX_BODY_BYTES: intLike()
    .pipe(
      z
        .int()
        .min(1)
        .max(1024 * 1024 * 1024),
    )
    .default(10 * 1024 * 1024),
  MAX_HEADER_COUNT: intLike().pipe(z.int().min(1).max(1000)).default(100),
  MAX_HEADER_BYTES: intLike()
    .pipe(
      z
        .int()
        .min(1024)
        .max(1024 * 1024),
    )
    .default(64 * 1024),
  CORS_ALLOWED_ORIGINS: commaList.default([]),
  FORCE_HTTPS: boolLike().default(false),
  HSTS_MAX_AGE: intLike().pipe(z.int().min(0).max(63_072_000)).default(31_536_000),
  HSTS_INCLUDE_SUBDOMAINS: boolLike().default(true),
  HSTS_PRELOAD: boolLike().default(false),
  CSP_POLICY: z
    .string()
    .refine((value) => !/[\r\n\0]/.test(value), { message: 'must not contain CR, LF or NUL' })
    .optional(),
  ROOT_PATH: z
    .string()
    .transform((value) => value.replace(/\/+$/, ''))
    .default(''),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  OUTBOUND_ALLOWED_HOSTS: commaList.default([]),
  ALLOW_LOCALHOST_FOR_TESTS: boolLike().default(false),
  ALLOW_PRIVATE_IP_CONNECTIONS: boolLike().default(false),
  SHUTDOWN_TIMEOUT_SECONDS: numberLike().pipe(z.number().min(0).max(3600)).default(30),
  /** Start the Webhook Connect buffer even when no webhook uses `webhook_connect`. */
  WEBHOOK_CONNECT_ENABLED: boolLike().default(false),
  /** Token of `/admin/webhook-connect/*`; unset disables that API (except its `/health`). */
  WEBHOOK_CONNECT_ADMIN_TOKEN: optionalSecret.optional(),
  /** `sqlite`, `redis`, `rabbitmq` or `memory` (see docs/buffers.md); read by `selectBuffer`. */
  WEBHOOK_CONNECT_BUFFER: z.string().trim().min(1).optional(),
  WEBHOOK_CONNECT_SQLITE_PATH: z.string().min(1).optional(),
  WEBHOOK_CONNECT_REDIS_URL: optionalSecret.optional(),
  WEBHOOK_CONNECT_RABBITMQ_URL: optionalSecret.optional(),
});

export type ServerSettings = z.output<typeof settingsSchema>;
export type SettingName = keyof ServerSettings;

/** Command-line flag → environment variable. */
export const SERVE_FLAGS = {
  host: 'HOST',
  port: 'PORT',
  webhooks: 'WEBHOOKS_CONFIG_FILE',
  connections: 'CONNECTIONS_CONFIG_FILE',
  watch: 'CONFIG_FILE_WATCHING_ENABLED',
  'max-body-bytes': 'MAX_BODY_BYTES',
  'tls-cert': 'TLS_CERT_FILE',
  'tls-key': 'TLS_KEY_FILE',
} as const satisfies Record<string, SettingName>;

export type SettingsResult = { ok: true; settings: ServerSettings } | { ok: false; issues: ConfigIssue[] };

/**
 * Reads settings from the environment, overridden by explicitly given flags (flag name → string value).
 * Empty environment values count as unset, as a shell `VAR=` usually means.
 */
export function readServerSettings(
  env: Readonly<Record<string, string | undefined>>,
  flags: Readonly<Partial<Record<keyof typeof SERVE_FLAGS, string>>> = {},
): SettingsResult {
  const input: Record<string, string> = {};
  for (const name of Object.keys(settingsSchema.shape)) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  for (const [flag, name] of Object.entries(SERVE_FLAGS)) {
    const value = flags[flag as keyof typeof SERVE_FLAGS];
    if (value !== undefined) input[name] = value;
  }
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: issuesFromZod(parsed.error, 'environment'),
    };
  }
  const settings = parsed.data;
  if ((settings.TLS_CERT_FILE === undefined) !== (settings.TLS_KEY_FILE === undefined)) {
    return {
      ok: false,
      issues: [
        {
          file: 'environment',
          path: ['TLS_KEY_FILE'],
          message: 'TLS_CERT_FILE and TLS_KEY_FILE go together',
        },
      ],
    };
  }
  return { ok: true, settings: Object.freeze(settings) };
}

/** The outbound allow-list implied by the settings (legacy switches expand to address ranges). */
export function outboundAllowList(settings: ServerSettings): string[] {
  const hosts = [...settings.OUTBOUND_ALLOWED_HOSTS];
  if (settings.ALLOW_LOCALHOST_FOR_TESTS) hosts.push('localhost', '127.0.0.0/8', '::1/128');
  if (settings.ALLOW_PRIVATE_IP_CONNECTIONS)
    hosts.push('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7');
  return hosts;
}

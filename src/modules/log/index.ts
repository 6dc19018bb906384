/**
 * `log`: writes each webhook to stdout (reference §4.1). Compact mode prints three lines
 * (`config: …`, `headers: …`, `body: …`); `pretty_print` prints a banner and indented JSON.
 *
 * Output safety: connection details are never printed; with `redact_sensitive` (default) any key or
 * header name containing a sensitive word is printed as `[REDACTED]`; CR/LF in strings become `[NL]`
 * and other control characters `[CTRL]` (no log injection); each section is cut at 10 000 characters
 * with `... [truncated]`; nesting deeper than 10 and cycles are replaced by markers.
 */
import type { Writable } from 'node:stream';
import type { ModuleDescriptor, Publisher, WebhookEvent } from '../types.js';
import { logConfigSchema, type LogConfig } from './schema.js';

/** Longest printed section. */
export const LOG_MAX_CHARS = 10_000;
/** Deepest nesting printed. */
export const LOG_MAX_DEPTH = 10;
export const LOG_REDACTED = '[REDACTED]';

/** Name fragments (lower case) that mark a key or header as sensitive in log output (reference §4.1). */
export const LOG_SENSITIVE_FRAGMENTS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'api_key',
  'apikey',
  'access_token',
  'refresh_token',
  'authorization',
  'auth',
  'credential',
  'credentials',
  'private_key',
  'privatekey',
  'session',
  'cookie',
  'ssn',
  'credit_card',
  'creditcard',
  'database_url',
  'db_url',
  'connection_string',
  'conn_string',
];

function isSensitive(name: string): boolean {
  const lower = name.toLowerCase();
  const underscored = lower.replaceAll('-', '_');
  return LOG_SENSITIVE_FRAGMENTS.some(
    (fragment) => lower.includes(fragment) || underscored.includes(fragment),
  );
}

function cleanText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n|[\r\n\u2028\u2029]/g, '[NL]').replace(/[\u0000-\u001f\u007f]/g, '[CTRL]');
}

/** A printable copy: strings cleaned, sensitive values redacted, depth and cycles bounded. */
export function printable(value: unknown, redact: boolean, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= LOG_MAX_DEPTH) return '[Max depth exceeded]';
  if (seen.has(value)) return '[Circular reference]';
  seen.add(value);
  let result: unknown;
  if (Array.isArray(value)) result = value.map((item) => printable(item, redact, depth + 1, seen));
  else {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[cleanText(key)] =
        redact && isSensitive(key) ? LOG_REDACTED : printable(item, redact, depth + 1, seen);
    }
    result = copy;
  }
  seen.delete(value);
  return result;
}

function truncate(text: string): string {
  return text.length > LOG_MAX_CHARS ? `${text.slice(0, LOG_MAX_CHARS)}... [truncated]` : text;
}

function describePayload(event: WebhookEvent): unknown {
  if (Buffer.isBuffer(event.payload)) {
    return `<binary ${event.payload.length} bytes, ${event.contentType ?? 'application/octet-stream'}>`;
  }
  return event.payload;
}

/** Renders one event as the module prints it. */
export function formatLogEntry(
  event: WebhookEvent,
  config: LogConfig,
  moduleContext: Readonly<Record<string, unknown>>,
): string {
  const redact = config.redact_sensitive;
  const headers = printable(event.headers, redact);
  const body = printable(describePayload(event), redact);
  if (config.pretty_print) {
    return [
      '=== WEBHOOK RECEIVED ===',
      `webhook: ${cleanText(event.webhookId)}  message: ${cleanText(event.messageId)}`,
      'headers:',
      truncate(JSON.stringify(headers, null, 2)),
      'payload:',
      truncate(JSON.stringify(body, null, 2) ?? 'null'),
      '',
    ].join('\n');
  }
  const context = printable(moduleContext, redact);
  return [
    `config: ${truncate(JSON.stringify(context))}`,
    `headers: ${truncate(JSON.stringify(headers))}`,
    `body: ${truncate(JSON.stringify(body) ?? 'null')}`,
    '',
  ].join('\n');
}

export interface LogModuleOptions {
  /** Where entries are written. Default `process.stdout`. */
  readonly stream?: Writable;
}

/** Builds the `log` descriptor; tests pass their own stream. */
export function createLogModule(options: LogModuleOptions = {}): ModuleDescriptor<LogConfig> {
  return {
    type: 'log',
    schema: logConfigSchema,
    secretFields: [],
    create(instance): Publisher {
      const stream = options.stream ?? process.stdout;
      const context = {
        webhook_id: instance.webhookId,
        'module-config': instance.moduleConfig,
        // Connection details are never printed.
        ...(instance.connection === undefined ? {} : { connection_details: LOG_REDACTED }),
      };
      return {
        deliver(event, signal) {
          signal.throwIfAborted();
          const text = formatLogEntry(event, instance.moduleConfig, {
            ...context,
            message_id: event.messageId,
          });
          return new Promise<void>((resolve, reject) => {
            stream.write(text, (error) => (error ? reject(error) : resolve()));
          });
        },
        async close() {},
      };
    },
  };
}

/** The built-in `log` module, writing to stdout. */
export const logModule = createLogModule();

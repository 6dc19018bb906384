/**
 * Structured JSON logs (pino) with secret redaction. Human-readable output when stdout is a terminal,
 * JSON otherwise. `LOG_LEVEL` sets the level (default `info`; `silent` in tests unless set).
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear in a log object. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.password',
  '*.pass',
  '*.secret',
  '*.token',
  '*.channel_token',
  '*.api_key',
  '*.client_secret',
  '*.consumer_secret',
  '*.secret_key',
  '*.aws_secret_access_key',
  '*.connection_string',
];

export interface CreateLoggerOptions {
  readonly level?: string;
  /** Force pretty (true) or JSON (false); default: pretty when stdout is a TTY. */
  readonly pretty?: boolean;
  readonly name?: string;
  /** Where JSON lines go (default stdout); tests pass a stream to read them back. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level =
    options.level ?? process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info');
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const base: LoggerOptions = {
    level,
    name: options.name ?? 'webhook-connect',
    redact: { paths: REDACTED_LOG_PATHS, censor: '[REDACTED]' },
  };
  if (options.destination !== undefined) return pino(base, options.destination);
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:standard' } },
    });
  }
  return pino(base);
}

/** A logger that drops everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

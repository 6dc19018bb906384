/**
 * The buffer backends that exist, by name, and how the environment picks one. Later backends (redis,
 * rabbitmq) add their kind here; the registry imports each by name, no scanning.
 */
import { WebhookConnectError } from '../shared/errors.js';
import { createMemoryBuffer } from './memory/index.js';
import { createRabbitmqBuffer, type RabbitmqBufferOptions } from './rabbitmq/index.js';
import { createRedisBuffer, type RedisBufferOptions } from './redis/index.js';
import { createSqliteBuffer, type SqliteBufferOptions } from './sqlite/index.js';
import type { BufferOptions, MessageBuffer } from './types.js';

/** Backends that can be created today. */
export const BUFFER_KINDS = ['sqlite', 'memory', 'redis', 'rabbitmq'] as const;
export type BufferKind = (typeof BUFFER_KINDS)[number];

export interface CreateBufferOptions extends BufferOptions {
  /** sqlite only. */
  readonly sqlite?: Omit<SqliteBufferOptions, keyof BufferOptions>;
  /** rabbitmq only (URL default: `WEBHOOK_CONNECT_RABBITMQ_URL`, else `RABBITMQ_URL`, else local guest). */
  readonly rabbitmq?: Omit<RabbitmqBufferOptions, keyof BufferOptions>;
  /** redis only (URL default: `WEBHOOK_CONNECT_REDIS_URL`, else `redis://127.0.0.1:6379/0`). */
  readonly redis?: Omit<RedisBufferOptions, keyof BufferOptions>;
}

export function isBufferKind(value: string): value is BufferKind {
  return (BUFFER_KINDS as readonly string[]).includes(value);
}

/** Creates the named backend; throws `WC_CONFIG_INVALID` for a kind that does not exist. */
export async function createBuffer(kind: string, options: CreateBufferOptions = {}): Promise<MessageBuffer> {
  const base: BufferOptions = {
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  switch (kind) {
    case 'sqlite':
      return createSqliteBuffer({ ...options.sqlite, ...base });
    case 'memory':
      return createMemoryBuffer(base);
    case 'redis':
      return createRedisBuffer({ ...options.redis, ...base });
    case 'rabbitmq':
      return createRabbitmqBuffer({ ...options.rabbitmq, ...base });
    default:
      throw new WebhookConnectError('WC_CONFIG_INVALID', {
        detail: `WEBHOOK_CONNECT_BUFFER: unknown buffer '${kind}' (available: ${BUFFER_KINDS.join(', ')})`,
      });
  }
}

/** What the environment asks for (see docs/buffers.md). */
export interface BufferSelection {
  readonly kind: string;
  readonly sqlitePath?: string;
}

/**
 * `WEBHOOK_CONNECT_BUFFER` when set; else `redis` when `WEBHOOK_CONNECT_REDIS_URL` is set, `rabbitmq` when
 * `WEBHOOK_CONNECT_RABBITMQ_URL` is; else `sqlite` at `WEBHOOK_CONNECT_SQLITE_PATH` (default
 * `./data/webhook-connect.sqlite`).
 */
export function selectBuffer(
  env: Readonly<Record<string, string | undefined>> = process.env,
): BufferSelection {
  const explicit = env.WEBHOOK_CONNECT_BUFFER?.trim().toLowerCase();
  const kind =
    explicit !== undefined && explicit !== ''
      ? explicit
      : nonEmpty(env.WEBHOOK_CONNECT_REDIS_URL)
        ? 'redis'
        : nonEmpty(env.WEBHOOK_CONNECT_RABBITMQ_URL)
          ? 'rabbitmq'
          : 'sqlite';
  const sqlitePath = env.WEBHOOK_CONNECT_SQLITE_PATH?.trim();
  return nonEmpty(sqlitePath) ? { kind, sqlitePath } : { kind };
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/**
 * The Redis connection and how it fails. Commands never wait for a connection that is not there:
 * `enableOfflineQueue: false` rejects at once while Redis is unreachable and `maxRetriesPerRequest: 0`
 * with `autoResendUnfulfilledCommands: false` rejects a command in flight when the connection drops
 * (never a silent resend of a non-idempotent script). `commandTimeout` bounds a Redis that accepts but
 * does not answer. Every such failure becomes `WC_BUFFER_UNAVAILABLE` (503 + Retry-After) in index.ts.
 * ioredis keeps reconnecting in the background, so service resumes by itself when Redis returns.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../observability/logger.js';

/** Default URL when neither the option nor `WEBHOOK_CONNECT_REDIS_URL` is set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';

export interface ConnectionOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly connectionName: string;
}

/** Options a second client (the Pub/Sub subscriber) may set differently. */
export type ClientOverrides = Pick<
  RedisOptions,
  'lazyConnect' | 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'enableAutoPipelining'
>;

export function createClient(options: ConnectionOptions, extra: ClientOverrides = {}): Redis {
  return new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), options.reconnectMaxDelayMs),
    enableAutoPipelining: true,
    connectionName: options.connectionName,
    ...extra,
  });
}

/**
 * Starts connecting and waits until the client is ready or the first attempt failed (then it keeps
 * reconnecting in the background). Resolves true when ready.
 */
export async function connect(client: Redis): Promise<boolean> {
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  }
}

/**
 * Logs connection loss and recovery once per transition instead of once per reconnect attempt, and
 * keeps ioredis from printing unhandled `error` events.
 */
export function watchConnection(client: Redis, logger: Logger, what: string): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(
      { err: { message: error.message } },
      `${what}: Redis unreachable, retrying in the background`,
    );
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info(`${what}: Redis reachable again`);
  });
}

/**
 * Warns when Redis keeps nothing on disk (an accepted webhook would survive a receiver crash but not a
 * Redis restart) or may evict keys under memory pressure. Best effort: managed Redis often forbids CONFIG.
 */
export async function warnAboutRedisSettings(client: Redis, logger: Logger): Promise<void> {
  const setting = async (name: string): Promise<string | undefined> => {
    try {
      const reply = (await client.config('GET', name)) as unknown;
      return Array.isArray(reply) && reply.length >= 2 ? String(reply[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  const [appendonly, policy] = await Promise.all([setting('appendonly'), setting('maxmemory-policy')]);
  if (appendonly === 'no') {
    logger.warn(
      'redis buffer: Redis runs with appendonly no; buffered webhooks are lost if Redis itself restarts ' +
        '(set appendonly yes with appendfsync always or everysec for durability across a Redis crash)',
    );
  }
  if (policy !== undefined && policy !== 'noeviction') {
    logger.warn(
      `redis buffer: Redis maxmemory-policy is ${policy}; it may evict buffered webhooks (use noeviction)`,
    );
  }
}

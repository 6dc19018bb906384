/**
 * The Redis and RabbitMQ services that tests and benchmarks use: their URLs, whether they can be used,
 * and the removal of one channel's data after a run.
 */
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { channelQueues, DEFAULT_PREFIX, tallyQueue } from '../../src/buffer/rabbitmq/names.js';
import { DEFAULT_KEY_PREFIX } from '../../src/buffer/redis/keys.js';
import type { BufferKind } from '../../src/buffer/registry.js';
import { tcpReachable } from './tcp.js';

/** The service URLs, read from the environment when called (a test may point them at a proxy first). */
export function serviceUrls(): { readonly redis: string; readonly rabbitmq: string } {
  return {
    redis: process.env.WEBHOOK_CONNECT_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    rabbitmq:
      process.env.WEBHOOK_CONNECT_RABBITMQ_URL ??
      process.env.RABBITMQ_URL ??
      'amqp://guest:guest@127.0.0.1:5672/',
  };
}

/** A URL without its credentials, for messages. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/** Undefined when the buffer's service answers (Redis: PING; RabbitMQ: a connection); else why not. */
export async function whyUnavailable(kind: BufferKind): Promise<string | undefined> {
  if (kind === 'sqlite' || kind === 'memory') return undefined;
  const urls = serviceUrls();
  if (kind === 'redis') {
    const url = new URL(urls.redis);
    if (!(await tcpReachable(url.hostname, Number(url.port || 6379), 1500)))
      return `redis unreachable at ${url.host}`;
    const client = new Redis(urls.redis, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await client.connect();
      await client.ping();
      return undefined;
    } catch (error) {
      return `redis at ${url.host} does not answer PING (${String(error)})`;
    } finally {
      client.disconnect();
    }
  }
  try {
    const conn = await amqp.connect(urls.rabbitmq, { timeout: 2000 });
    await conn.close();
    return undefined;
  } catch (error) {
    return `rabbitmq unreachable at ${safeUrl(urls.rabbitmq)} (${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * Deletes what a run left of one channel under the default prefixes: its Redis keys, or its RabbitMQ
 * queues (the shared wake exchange stays: other tests and instances use it). sqlite and memory: nothing.
 */
export async function deleteChannelData(
  kind: BufferKind,
  channel: string,
  webhookIds: readonly string[],
): Promise<void> {
  const urls = serviceUrls();
  if (kind === 'redis') {
    const client = new Redis(urls.redis, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(
          cursor,
          'MATCH',
          `${DEFAULT_KEY_PREFIX}:{${channel}}:*`,
          'COUNT',
          1000,
        );
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  } else if (kind === 'rabbitmq') {
    const queues = [
      ...Object.values(channelQueues(DEFAULT_PREFIX, channel)),
      ...webhookIds.map((id) => tallyQueue(DEFAULT_PREFIX, channel, id)),
    ];
    const conn = await amqp.connect(urls.rabbitmq, { timeout: 2000 });
    try {
      const ch = await conn.createChannel();
      for (const queue of queues) await ch.deleteQueue(queue);
      await ch.close();
    } finally {
      await conn.close();
    }
  }
}

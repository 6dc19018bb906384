/**
 * Buffer backends for the relay benchmarks: which ones can run here (a backend whose service is
 * unreachable is skipped loudly, never silently), the receiver environment for each, and cleanup of the
 * benchmark's channels in Redis and RabbitMQ (every run uses its own channel names).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { tcpReachable } from '../test/harness/tcp.js';

export type BufferKind = 'sqlite' | 'redis' | 'rabbitmq' | 'memory';
export const BUFFER_KINDS: readonly BufferKind[] = ['sqlite', 'redis', 'rabbitmq', 'memory'];

export const REDIS_URL =
  process.env.WEBHOOK_CONNECT_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const RABBITMQ_URL =
  process.env.WEBHOOK_CONNECT_RABBITMQ_URL ??
  process.env.RABBITMQ_URL ??
  'amqp://guest:guest@127.0.0.1:5672/';

/** Undefined when the backend can be used, else why not. */
async function unavailable(kind: BufferKind): Promise<string | undefined> {
  if (kind === 'sqlite' || kind === 'memory') return undefined;
  if (kind === 'redis') {
    const url = new URL(REDIS_URL);
    if (!(await tcpReachable(url.hostname, Number(url.port || 6379), 1500)))
      return `unreachable at ${url.host}`;
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await client.connect();
      await client.ping();
      return undefined;
    } catch (error) {
      return `no PING answer at ${url.host} (${String(error)})`;
    } finally {
      client.disconnect();
    }
  }
  try {
    const conn = await amqp.connect(RABBITMQ_URL, { timeout: 2000 });
    await conn.close();
    return undefined;
  } catch (error) {
    return `unreachable at ${RABBITMQ_URL.replace(/\/\/[^@/]*@/, '//')} (${(error as Error).message})`;
  }
}

/** The backends that can run here, in `wanted` order; prints one loud line per skipped backend. */
export async function availableBuffers(
  wanted: readonly BufferKind[] = BUFFER_KINDS,
): Promise<{ kinds: BufferKind[]; skipped: Record<string, string> }> {
  const kinds: BufferKind[] = [];
  const skipped: Record<string, string> = {};
  for (const kind of wanted) {
    const reason = await unavailable(kind);
    if (reason === undefined) kinds.push(kind);
    else {
      skipped[kind] = reason;
      console.warn(`SKIPPED the ${kind} buffer: ${reason}`);
    }
  }
  return { kinds, skipped };
}

/** Receiver environment selecting `kind` (sqlite: a fresh file in a temp dir). */
export function bufferEnv(kind: BufferKind): Record<string, string> {
  return {
    WEBHOOK_CONNECT_BUFFER: kind,
    WEBHOOK_CONNECT_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), 'wc-bench-sqlite-')), 'buffer.sqlite'),
    WEBHOOK_CONNECT_REDIS_URL: REDIS_URL,
    WEBHOOK_CONNECT_RABBITMQ_URL: RABBITMQ_URL,
  };
}

/** A channel name unique to this run. */
export function benchChannel(label: string): string {
  return `bench-${label}-${process.pid}-${Date.now().toString(36)}`;
}

/** Deletes a benchmark channel's data from Redis or RabbitMQ (sqlite/memory: nothing to do). */
export async function deleteChannel(
  kind: BufferKind,
  channel: string,
  webhookIds: readonly string[],
): Promise<void> {
  if (kind === 'redis') {
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(
          cursor,
          'MATCH',
          `webhook_connect:{${channel}}:*`,
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
    const base = `webhook_connect.${channel}`;
    const queues = ['ready', 'retry', 'dead', 'state', 'webhooks', ...webhookIds.map((id) => `count.${id}`)];
    const conn = await amqp.connect(RABBITMQ_URL, { timeout: 2000 });
    try {
      const ch = await conn.createChannel();
      for (const queue of queues) await ch.deleteQueue(`${base}.${queue}`);
      await ch.close();
    } finally {
      await conn.close();
    }
  }
}

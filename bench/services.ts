/**
 * Buffer backends for the relay benchmarks: which ones can run here (a backend whose service is
 * unreachable is skipped loudly, never silently), the receiver environment for each, and cleanup of the
 * benchmark's channels in Redis and RabbitMQ (every run uses its own channel names).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteChannelData, serviceUrls, whyUnavailable } from '../test/harness/services.js';

export type BufferKind = 'sqlite' | 'redis' | 'rabbitmq' | 'memory';
export const BUFFER_KINDS: readonly BufferKind[] = ['sqlite', 'redis', 'rabbitmq', 'memory'];

/** The backends that can run here, in `wanted` order; prints one loud line per skipped backend. */
export async function availableBuffers(
  wanted: readonly BufferKind[] = BUFFER_KINDS,
): Promise<{ kinds: BufferKind[]; skipped: Record<string, string> }> {
  const kinds: BufferKind[] = [];
  const skipped: Record<string, string> = {};
  for (const kind of wanted) {
    const reason = await whyUnavailable(kind);
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
    WEBHOOK_CONNECT_REDIS_URL: serviceUrls().redis,
    WEBHOOK_CONNECT_RABBITMQ_URL: serviceUrls().rabbitmq,
  };
}

/** A channel name unique to this run. */
export function benchChannel(label: string): string {
  return `bench-${label}-${process.pid}-${Date.now().toString(36)}`;
}

/** Deletes a benchmark channel's data from Redis or RabbitMQ (sqlite/memory: nothing to do). */
export const deleteChannel = deleteChannelData;

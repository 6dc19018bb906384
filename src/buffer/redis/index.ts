/**
 * The distributed buffer: Redis, shared by any number of receiver instances. Every state change is one
 * Lua script (EVALSHA) that checks and moves a message atomically, so two instances can never lease the
 * same message, and every time decision uses the buffer's clock passed into the script (never Redis's
 * clock or key TTLs).
 *
 * ## Key layout (prefix `P`, default `webhook_connect`; channel `C` in a hash tag)
 *
 * ```
 * P:{C}:m:<id>   HASH   one message: webhook_id, data (JSON: payload, content_type, headers, query,
 *                       metadata), body (raw bytes), received_at, expires_at, delivery_count, seq,
 *                       state (available | leased | dead), owner, reason, last_error, dead_at
 * P:{C}:ready    ZSET   seq → id          available and due, FIFO
 * P:{C}:delayed  ZSET   available_at → id available, waiting for a retry backoff
 * P:{C}:leased   ZSET   deadline → id     leased (the owner is in the message hash)
 * P:{C}:expiry   ZSET   expires_at → id   TTL index of available messages
 * P:{C}:dead     ZSET   seq → id          dead letters, oldest first
 * P:{C}:live     ZSET   seq → id          available + leased: depth, head of an ordered channel
 * P:{C}:depths   HASH   webhook_id → live count (queue-full check, per-webhook depth)
 * P:{C}:meta     HASH   seq (FIFO counter), acked_total, expired_total
 * P:{C}:state    STRING channel state JSON (token rotation), shared by every instance
 * P:notify:C     Pub/Sub topic: "messages may be available" hints between instances
 * ```
 *
 * ## Lifecycle (the contract's state machine, types.ts)
 *
 * - append: `m:<id>` + ready + expiry + live, depths + 1 (refused when depths ≥ max_queue_size).
 * - lease: first reclaim (leased with deadline ≤ now → fail_delivery; expiry ≤ now → dead `expired`)
 *   and promote due retries (delayed → ready), then ready → leased with delivery_count + 1 and
 *   deadline = now + lease length. An ordered channel leases only the head of `live`, if it is ready.
 * - ack: the message is deleted (hash and indexes), acked_total + 1.
 * - failed delivery (nack with retry, expired lease, counted release): dead `max_delivery_attempts` when
 *   delivery_count ≥ max_delivery_attempts, else ready (no backoff) or delayed until now + backoff.
 * - nack without retry: dead with the reason. Dead letters keep their hash until purged; replay puts
 *   them back in ready at their old position with delivery_count 0 and a fresh TTL.
 *
 * Nothing is trimmed: a message leaves Redis only by ack or purge. Streams with consumer groups were
 * considered and not used: a pending entry's idle time runs on Redis's clock, XCLAIM cannot delay a
 * redelivery for a backoff, and a stream has no per-message `available_at`, TTL or head-of-line check.
 *
 * Durability: a resolved `append` is in Redis memory; whether it survives a Redis crash is Redis's
 * persistence setting (`appendonly yes`; `appendfsync always` for power-loss safety, `everysec` loses at
 * most about a second). The buffer warns at startup when Redis runs without an append-only file.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../../observability/logger.js';
import { isWebhookConnectError } from '../../shared/errors.js';
import { bufferUnavailableError, channelNotFoundError } from '../errors.js';
import { newMessageId } from '../message-id.js';
import { resolveChannelSettings } from '../settings.js';
import type {
  BufferHealth,
  BufferOptions,
  ChannelSettings,
  ChannelStats,
  DeadLetter,
  ListOptions,
  MessageBuffer,
  NackOptions,
  NackResult,
  NewMessage,
  ReclaimResult,
  ReleaseOptions,
  SettleResult,
  StoredMessage,
} from '../types.js';
import { ChannelWatchers } from '../watchers.js';
import {
  DEFAULT_REDIS_URL,
  connect,
  createClient,
  warnAboutRedisSettings,
  watchConnection,
  type ConnectionOptions,
} from './connection.js';
import { DEFAULT_KEY_PREFIX, channelKeys, type ChannelKeys } from './keys.js';
import { RemoteHints } from './notify.js';
import { ack } from './operations/ack.js';
import { AppendBatcher } from './operations/append.js';
import { getChannelState, setChannelState } from './operations/channel-state.js';
import type { OpContext } from './operations/context.js';
import { depth, stats, webhookDepths } from './operations/counts.js';
import { listDeadLetters, purgeDeadLetters, replayDeadLetters } from './operations/dead-letters.js';
import { extendLease } from './operations/extend-lease.js';
import { lease } from './operations/lease.js';
import { nack } from './operations/nack.js';
import { reclaim } from './operations/reclaim.js';
import { release } from './operations/release.js';
import { retryDelayTable } from './retry-delays.js';
import { DECLARE, defineScripts, runScript } from './scripts/index.js';

export { DEFAULT_REDIS_URL } from './connection.js';
export { DEFAULT_KEY_PREFIX } from './keys.js';

export interface RedisBufferOptions extends BufferOptions {
  /** Redis URL. Default: `WEBHOOK_CONNECT_REDIS_URL`, else `redis://127.0.0.1:6379/0`. */
  readonly url?: string;
  /** Prefix of every key and Pub/Sub topic. Default `webhook_connect`. */
  readonly keyPrefix?: string;
  /** A command without a reply for this long fails (`WC_BUFFER_UNAVAILABLE`), ms. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** Give up one connection attempt after this long, ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Upper bound of the delay between reconnect attempts, ms. Default 2000. */
  readonly reconnectMaxDelayMs?: number;
}

interface Channel {
  readonly settings: ChannelSettings;
  readonly keys: ChannelKeys;
  readonly retryDelays: readonly number[];
}

/**
 * Connects (waiting for the first attempt) and returns the buffer. An unreachable Redis is not an
 * error here: the buffer starts unhealthy, its operations fail with `WC_BUFFER_UNAVAILABLE`, and it
 * recovers by itself when Redis becomes reachable.
 */
export async function createRedisBuffer(options: RedisBufferOptions = {}): Promise<MessageBuffer> {
  const logger = options.logger ?? silentLogger();
  const connection: ConnectionOptions = {
    url: options.url ?? nonEmpty(process.env.WEBHOOK_CONNECT_REDIS_URL) ?? DEFAULT_REDIS_URL,
    commandTimeoutMs: options.commandTimeoutMs ?? 5000,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 2000,
    connectionName: 'webhook-connect-buffer',
  };
  const client = createClient(connection);
  defineScripts(client);
  watchConnection(client, logger, 'redis buffer');
  const ready = await connect(client);
  if (ready) await warnAboutRedisSettings(client, logger);
  else logger.warn('redis buffer: Redis not reachable at startup; retrying in the background');
  return new RedisBuffer(client, connection, options, logger);
}

class RedisBuffer implements MessageBuffer {
  readonly kind = 'redis';
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #channels = new Map<string, Channel>();
  readonly #watchers = new ChannelWatchers();
  readonly #hints: RemoteHints;
  readonly #appends: AppendBatcher;
  readonly #logger: Logger;
  #closed = false;

  constructor(client: Redis, connection: ConnectionOptions, options: RedisBufferOptions, logger: Logger) {
    this.#client = client;
    this.#prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#now = options.now ?? Date.now;
    this.#appends = new AppendBatcher(client);
    this.#logger = logger;
    const instanceId = randomBytes(8).toString('hex');
    this.#hints = new RemoteHints(
      client,
      () => {
        const subscriber = createClient(
          { ...connection, connectionName: 'webhook-connect-buffer-hints' },
          {
            lazyConnect: false,
            enableOfflineQueue: true,
            maxRetriesPerRequest: null,
            enableAutoPipelining: false,
          },
        );
        watchConnection(subscriber, logger, 'redis buffer hints');
        return subscriber;
      },
      instanceId,
      (channel) => this.#watchers.notify(channel),
    );
  }

  async ensureChannel(channel: string, settings?: Partial<ChannelSettings>): Promise<void> {
    this.#open();
    const resolved = resolveChannelSettings(settings);
    const keys = channelKeys(this.#prefix, channel);
    this.#channels.set(channel, { settings: resolved, keys, retryDelays: retryDelayTable(resolved) });
    // Best effort: every script creates the stream, its group and the clock itself when they are
    // missing, so a Redis that is down now (or loses its data later) only delays this.
    if (this.#client.status !== 'ready') return;
    try {
      await runScript(this.#client, DECLARE, [keys.stream, keys.clock], []);
    } catch (error) {
      this.#logger.warn(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        `redis buffer: could not create the stream of channel ${channel} yet`,
      );
    }
  }

  async append(message: NewMessage): Promise<StoredMessage> {
    const id = message.id ?? newMessageId();
    const stored = await this.#run(message.channel, (ctx) => this.#appends.append(ctx, message, id));
    this.#wake(message.channel);
    return stored;
  }

  lease(channel: string, consumerId: string, max: number, leaseMs?: number): Promise<StoredMessage[]> {
    return this.#run(channel, (ctx) => lease(ctx, consumerId, max, leaseMs));
  }

  ack(channel: string, consumerId: string, ids: readonly string[]): Promise<SettleResult[]> {
    return this.#run(channel, (ctx) => ack(ctx, consumerId, ids));
  }

  async nack(channel: string, consumerId: string, id: string, options: NackOptions): Promise<NackResult> {
    const result = await this.#run(channel, (ctx) => nack(ctx, consumerId, id, options));
    if (result.state === 'available') this.#wake(channel);
    return result;
  }

  async release(channel: string, consumerId: string, options: ReleaseOptions = {}): Promise<NackResult[]> {
    const results = await this.#run(channel, (ctx) => release(ctx, consumerId, options));
    if (results.some((r) => r.state === 'available')) this.#wake(channel);
    return results;
  }

  extendLease(
    channel: string,
    consumerId: string,
    ids: readonly string[],
    leaseMs: number,
  ): Promise<SettleResult[]> {
    return this.#run(channel, (ctx) => extendLease(ctx, consumerId, ids, leaseMs));
  }

  async reclaimExpired(channel: string): Promise<ReclaimResult> {
    const result = await this.#run(channel, reclaim);
    if (result.released > 0) this.#wake(channel);
    return result;
  }

  listDeadLetters(channel: string, options: ListOptions = {}): Promise<DeadLetter[]> {
    return this.#run(channel, (ctx) => listDeadLetters(ctx, options));
  }

  async replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    const replayed = await this.#run(channel, (ctx) => replayDeadLetters(ctx, ids));
    if (replayed > 0) this.#wake(channel);
    return replayed;
  }

  purgeDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    return this.#run(channel, (ctx) => purgeDeadLetters(ctx, ids));
  }

  depth(channel: string, webhookId?: string): Promise<number> {
    return this.#run(channel, (ctx) => depth(ctx, webhookId));
  }

  webhookDepths(channel: string): Promise<Record<string, number>> {
    return this.#run(channel, webhookDepths);
  }

  stats(channel: string): Promise<ChannelStats> {
    return this.#run(channel, stats);
  }

  getChannelState(channel: string): Promise<unknown> {
    return this.#run(channel, getChannelState);
  }

  setChannelState(channel: string, state: unknown): Promise<void> {
    return this.#run(channel, (ctx) => setChannelState(ctx, state));
  }

  watch(channel: string, listener: () => void): () => void {
    const stopLocal = this.#watchers.watch(channel, listener);
    const stopRemote = this.#closed
      ? () => undefined
      : this.#hints.watch(channelKeys(this.#prefix, channel).notify, channel);
    return () => {
      stopLocal();
      stopRemote();
    };
  }

  async health(): Promise<BufferHealth> {
    if (this.#closed) return { ok: false, backend: this.kind, detail: 'closed' };
    if (this.#client.status !== 'ready')
      return { ok: false, backend: this.kind, detail: 'redis unreachable' };
    try {
      await this.#client.ping();
      return { ok: true, backend: this.kind };
    } catch {
      return { ok: false, backend: this.kind, detail: 'redis not answering' };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#appends.flush(); // appends of this turn are sent before QUIT
    this.#watchers.clear();
    this.#hints.close();
    try {
      await this.#client.quit(); // replies to commands already sent still arrive
    } catch {
      // not connected: nothing to flush
    } finally {
      this.#client.disconnect();
    }
  }

  /** Runs one operation; anything but a coded error means Redis could not be used. */
  async #run<T>(channel: string, op: (ctx: OpContext) => Promise<T>): Promise<T> {
    this.#open();
    const ch = this.#channels.get(channel);
    if (ch === undefined) throw channelNotFoundError(channel);
    try {
      return await op({ client: this.#client, channel, ...ch, now: this.#now() });
    } catch (error) {
      if (isWebhookConnectError(error)) throw error;
      throw bufferUnavailableError(error);
    }
  }

  /** Wakes local watchers now and other instances through a Pub/Sub hint. */
  #wake(channel: string): void {
    this.#watchers.notify(channel);
    const ch = this.#channels.get(channel);
    if (ch !== undefined && !this.#closed) this.#hints.publish(ch.keys.notify);
  }

  #open(): void {
    if (this.#closed) throw bufferUnavailableError(new Error('buffer closed'));
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

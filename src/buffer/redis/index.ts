/**
 * The distributed buffer: Redis Streams with one consumer group per channel, shared by any number of
 * receiver instances. Every state change is one Lua script (EVALSHA) that checks and moves a message
 * atomically, so two instances can never lease the same message, and every time decision follows the
 * buffer's clock (`BufferOptions.now`) to the millisecond, not Redis's clock.
 *
 * ## Key layout (prefix `P`, default `webhook_connect`; channel `C` in a hash tag)
 *
 * ```
 * P:{C}:stream          STREAM exactly the live messages (available + leased), one immutable entry each:
 *                              id, webhook_id, data (JSON: payload, content_type, headers, query, metadata),
 *                              body (raw bytes), received_at, expires_at; consumer group `relay`
 * P:{C}:ids             HASH   message id → "<stream entry id> <webhook_id>" (live messages)
 * P:{C}:ttl             ZSET   expires_at → stream entry id: TTL index of available messages
 * P:{C}:webhook-depths  HASH   webhook_id → live count (queue-full check, per-webhook depth)
 * P:{C}:errors          HASH   message id → last error a consumer reported (live messages)
 * P:{C}:dead-letters    STREAM dead letters in the order they died: the entry's fields + delivery_count,
 *                              reason, dead_at, last_error
 * P:{C}:dead-ids        HASH   message id → dead-letter entry id (duplicate check, replay, purge by id)
 * P:{C}:meta            HASH   acked_total, expired_total
 * P:{C}:clock           STREAM one entry pending since time 0: its idle time is the PEL's clock
 * P:{C}:state           STRING channel state JSON (token rotation), shared by every instance
 * P:notify:C            Pub/Sub topic: "messages may be available" hints between instances
 * ```
 *
 * ## Lifecycle (the contract's state machine, types.ts, on a stream and its PEL)
 *
 * A live message is a stream entry in one of three places, and the pending entries list (PEL) of the
 * group says which; its PEL delivery counter is `delivery_count`:
 *
 * - **new** (available, never delivered): after the group's last-delivered id, not in the PEL.
 * - **leased**: in the PEL of the consumer `c:<consumer id>`; the PEL delivery time is the lease deadline.
 * - **parked** (available again after a delivery): in the PEL of the pseudo-consumer `available` (no
 *   consumer id can have that name); the PEL delivery time is when it may be leased again.
 *
 * A time `t` is stored as the PEL delivery time `t − 10^12` (`XCLAIM … TIME`), because Redis replaces a
 * delivery time in its future by its now; scripts/lib.ts explains how a script reads it back exactly.
 *
 * Transitions:
 *
 * - append → new: `XADD` (refused when webhook-depths ≥ max_queue_size or the id is live or dead).
 *   Appends of one event-loop turn go to Redis as one script call (operations/append.ts).
 * - lease: first the reclaim below, then parked entries due by now, oldest first (`XCLAIM` to the
 *   consumer, which counts the delivery), then new ones (`XREADGROUP … >`, count 1); the deadline is set
 *   with `XCLAIM … TIME`. An ordered channel leases only the first stream entry, when it is new or parked
 *   and due. A new entry past its TTL goes dead `expired`; one received after now is parked until then.
 * - ack: `XACK` + `XDEL`, acked_total + 1. Nothing is ever trimmed: an entry leaves the stream only by
 *   ack or by becoming a dead letter, so `XLEN` is the live depth.
 * - failed delivery (nack with retry, expired lease, counted release): dead `max_delivery_attempts` when
 *   delivery_count ≥ max_delivery_attempts, else parked until now + backoff (`XCLAIM … JUSTID` to the
 *   pseudo-consumer keeps the count). A release that does not count the attempt parks it due now with
 *   the count decremented (`RETRYCOUNT`).
 * - reclaim (in every lease, and reclaimExpired): for each relay consumer in the group, its PEL entries
 *   whose deadline ≤ now take the failed-delivery path; available entries whose expires_at ≤ now (the
 *   ttl index) go dead `expired`, counted. Expired leases are found with `XPENDING … IDLE` per consumer
 *   and moved with `XCLAIM`, not with `XAUTOCLAIM`: XAUTOCLAIM compares against Redis's clock as sampled
 *   inside that command (on Redis 7.0 it can differ from any reading the script can take, so it could
 *   take a lease a millisecond early and then cannot put its time back), it overwrites the delivery time
 *   with Redis's now, and it does not say who held an entry, while a parked entry that is due must stay
 *   parked. XPENDING is read-only, so its answer can be checked against the clock stream first.
 * - dead (nack without retry, attempts used, TTL): `XADD` to dead-letters, `XACK` + `XDEL` from the stream.
 *   Replay `XADD`s it to the stream again as a new entry (delivery_count 0, fresh TTL) and deletes the
 *   dead letter; purge deletes it.
 *
 * A consumer left holding nothing is deleted from the group (`XGROUP DELCONSUMER`) by release and by
 * reclaim, so consumers of ended sessions do not pile up; a consumer reappears with its next lease.
 * Every script creates the stream, its group and the clock stream when missing (ensureChannel does it
 * up front), so a Redis that lost its data serves again without a restart.
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

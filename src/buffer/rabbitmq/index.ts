/**
 * The `rabbitmq` buffer: durable queues on a RabbitMQ broker shared by any number of receiver instances.
 *
 * ## Topology (per channel `C`, under a prefix `P`, default `webhook_connect`)
 *
 * | object                  | kind                                    | holds                                          |
 * | ----------------------- | --------------------------------------- | ---------------------------------------------- |
 * | `P.C.ready`             | quorum queue                            | live messages that are due, FIFO               |
 * | `P.C.retry`             | quorum queue                            | messages waiting for a retry backoff           |
 * | `P.C.dead`              | classic queue                           | dead letters, oldest first                     |
 * | `P.C.count.<webhook>`   | classic queue                           | one empty token per live message (depth)       |
 * | `P.C.webhooks`          | classic queue                           | one message per webhook id that fed `C`        |
 * | `P.C.state`             | classic, `x-max-length` 1, `drop-head`  | the latest channel state (last value wins)     |
 * | `P.wake`                | direct exchange (key = channel)         | wake-ups for watchers in every instance        |
 *
 * Every queue is durable and every message persistent; nothing is published to `P.C.*` without a
 * publisher confirm, and an operation resolves only after its confirms arrived. No queue argument
 * depends on channel settings (TTL, limits, backoff live in message headers and in this code), so
 * changing `ttl_seconds` or any other setting never breaks a re-declaration.
 *
 * ## Message lifecycle
 *
 * A message body is immutable (`codec.ts`); its mutable state is in `wc-*` headers. A state change is
 * "publish the new copy where it belongs, wait for the confirm, then ack the old delivery", so a crash in
 * between duplicates a message (at-least-once) but never loses one.
 *
 * - **append**: checks the (channel, webhook) depth (`P.C.count.<webhook>` message count), publishes the
 *   message to `P.C.ready` and a token to the count queue, and resolves when both are confirmed.
 * - **lease**: takes the due messages this instance already holds (look-ahead, due retries), oldest
 *   first; when they are too few, from `P.C.ready` — through the channel's consumer on unordered
 *   channels (see "Look-ahead window" below), with one `basic.get` per message on ordered ones. The
 *   delivery stays **unacked in this process** while leased; owner and deadline are kept in memory.
 *   `delivery_count` = `wc-count` (deliveries recorded in this copy) + `x-delivery-count` (times the
 *   broker returned this copy: a crash or lost connection during a delivery counts as an attempt) + 1.
 * - **ack**: acks the deliveries and, outside the channel lock, removes one count token per message
 *   (`basic.get` with `noAck`, spread over the link's `tally` channels); resolves when they are gone.
 * - **nack / release / expired lease**: with attempts left, a new copy with `wc-count` = the delivery
 *   count goes to `P.C.retry` with `wc-available-at` (or straight to `P.C.ready` when the backoff is
 *   zero); with none left (or `retry: false`), to `P.C.dead` with the reason.
 * - **retry queue**: drained into memory by `reclaimExpired` and by `lease` (at once after this object
 *   put a copy there, else at most every 250 ms); a waiting message is leased straight from there once
 *   due by the injected clock (so it keeps its place at the head of an `ordered` channel), or moved back
 *   to `P.C.ready` by the sweep when no local lease took it.
 * - **TTL**: `wc-expires-at` is checked against the injected clock whenever a message is taken from a
 *   queue; expired messages are dead-lettered `expired` and counted. `reclaimExpired` also scans the
 *   head of `P.C.ready` (the first live message stays held here as look-ahead, leased first).
 * - **dead letters**: listed by peeking `P.C.dead` (get, then requeue: a classic queue keeps the
 *   position), replayed by publishing a fresh copy (count 0, new TTL) to `P.C.ready`, purged by ack.
 *
 * ## Look-ahead window (unordered channels)
 *
 * A `basic.get` on a quorum queue is a Raft command (≈ 3 ms here), so an unordered channel takes its
 * messages with a `basic.consume` on `P.C.ready` instead. Its `basic.qos` prefetch (the channel's
 * window, at most `prefetch`) bounds the deliveries this process holds from it, leased or not; the
 * unleased ones are look-ahead, unacked in the broker like the leases, so a crash returns them.
 *
 * - **idle → consuming**: a lease that the held messages cannot fill starts the consumer and waits
 *   (at most 500 ms) for the deliveries of the messages that were ready then: the quorum queue reads
 *   them from its log, so they may arrive after later answers on the channel.
 * - **consuming**: deliveries become look-ahead and wake the watchers. A lease still short flushes
 *   first (a `queue.declare` round trip on the same AMQP channel: what the broker sent before its answer
 *   has arrived, and a message confirmed before the lease began was handed to a consumer at enqueue),
 *   then takes the look-ahead; when the window is full it goes on with `basic.get` beyond it. A
 *   `basic.get` that finds the queue empty is a Raft command applied after every earlier assignment to
 *   this consumer, so a second flush after it brings backlog deliveries (credit freed by acks) too.
 * - **consuming → idle**: the sweep finds look-ahead unleased for `holdMs`: it cancels the consumer,
 *   halves the window and hands those messages back to `P.C.ready` as new copies (not counted as an
 *   attempt), where another instance's consumer can take them. A lease that had to `basic.get` beyond
 *   a reduced window doubles it and cancels, so the next lease consumes with the larger one. Also on
 *   `ordered` (a settings change), on `close()` (before handing back), and when the connection drops.
 *
 * A cancelled consumer's deliveries stay held and can still be settled.
 *
 * ## What this backend cannot promise (documented in docs/buffers.md)
 *
 * Leases are unacked deliveries of the process that leased them: only that buffer object can settle
 * them, and a crash returns them to the queue (counted as a failed delivery) instead of keeping them.
 * `acked_total`/`expired_total` count what this buffer object did. Duplicate ids are detected among the
 * ids this object has seen. The conformance suite runs its restart case in its "leases released" form.
 * A crash also counts an attempt for the look-ahead it held (at most the window).
 */
import type { Channel, ConfirmChannel, ConsumeMessage, GetMessage, Message, Options } from 'amqplib';
import { silentLogger, type Logger } from '../../observability/logger.js';
import { isWebhookConnectError } from '../../shared/errors.js';
import {
  bufferUnavailableError,
  channelNotFoundError,
  duplicateMessageError,
  queueFullError,
} from '../errors.js';
import { afterFailedDelivery, expiresAt, leaseLengthMs } from '../lifecycle.js';
import { newMessageId } from '../message-id.js';
import { resolveChannelSettings } from '../settings.js';
import {
  DEAD_LETTER_REASONS,
  type BufferHealth,
  type BufferOptions,
  type ChannelSettings,
  type ChannelStats,
  type DeadLetter,
  type ListOptions,
  type MessageBuffer,
  type NackOptions,
  type NackResult,
  type NewMessage,
  type ReclaimResult,
  type ReleaseOptions,
  type SettleOutcome,
  type SettleResult,
  type StoredMessage,
} from '../types.js';
import { ChannelWatchers } from '../watchers.js';
import {
  decodeMessage,
  encodeMessage,
  publishOptions,
  readMeta,
  MESSAGE_CONTENT_TYPE,
  type MessageMeta,
} from './codec.js';
import { AmqpLink, type LinkChannels } from './link.js';
import { channelQueues, DEFAULT_PREFIX, tallyQueue, wakeExchange, type ChannelQueues } from './names.js';

export { DEFAULT_PREFIX } from './names.js';

/** Broker used when neither `WEBHOOK_CONNECT_RABBITMQ_URL` nor `RABBITMQ_URL` is set. */
export const DEFAULT_RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672/';

/** `WEBHOOK_CONNECT_RABBITMQ_URL`, else `RABBITMQ_URL`, else `DEFAULT_RABBITMQ_URL`. */
export function rabbitmqUrlFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string {
  for (const value of [env.WEBHOOK_CONNECT_RABBITMQ_URL, env.RABBITMQ_URL]) {
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  return DEFAULT_RABBITMQ_URL;
}

export interface RabbitmqBufferOptions extends BufferOptions {
  /** AMQP URL. Default: `rabbitmqUrlFromEnv()`. */
  readonly url?: string;
  /** Prefix of every queue and exchange name. Default `webhook_connect`. */
  readonly prefix?: string;
  /** TCP connect timeout, ms. Default 3000. */
  readonly connectTimeoutMs?: number;
  /** First reconnect delay, ms; doubles up to `reconnectMaxMs`. Default 250. */
  readonly reconnectMinMs?: number;
  /** Longest reconnect delay, ms. Default 5000. */
  readonly reconnectMaxMs?: number;
  /** How often held messages are swept (see `holdMs`), ms. Default 1000. */
  readonly sweepIntervalMs?: number;
  /**
   * How long a due message may sit in this process unleased (look-ahead, or due after a retry) before
   * the sweep hands it back to `P.C.ready` for other instances; also the grace after a lease deadline
   * before the sweep reclaims it when no caller did. Ms. Default 2000.
   */
  readonly holdMs?: number;
  /**
   * Largest look-ahead window of an unordered channel: the `basic.qos` prefetch of its consumer on
   * `P.C.ready`, which bounds the deliveries this process holds from it (leased or not). Halved each
   * time the sweep hands unleased messages back, doubled again when leases want more. Default 200.
   */
  readonly prefetch?: number;
}

/** Connects (one attempt; on failure the buffer starts unavailable and reconnects by itself). */
export async function createRabbitmqBuffer(options: RabbitmqBufferOptions = {}): Promise<RabbitmqBuffer> {
  const buffer = new RabbitmqBuffer(options);
  await buffer.start();
  return buffer;
}

const QUORUM: Options.AssertQueue = { durable: true, arguments: { 'x-queue-type': 'quorum' } };
const CLASSIC: Options.AssertQueue = { durable: true, arguments: { 'x-queue-type': 'classic' } };
const LAST_VALUE: Options.AssertQueue = {
  durable: true,
  arguments: { 'x-queue-type': 'classic', 'x-max-length': 1, 'x-overflow': 'drop-head' },
};
const EMPTY = Buffer.alloc(0);
/** Ids remembered for per-id outcomes and duplicate detection. */
const RECENT_IDS = 100_000;
/** How often a lease looks into the retry queue for copies other instances put there, ms. */
const RETRY_POLL_MS = 250;
/** Longest wait of a starting consumer for the deliveries of the messages ready when it started, ms. */
const CONSUMER_START_WAIT_MS = 500;

/** A delivery this process holds unacked on its `work` channel. */
interface Held {
  readonly id: string;
  readonly raw: Message;
  readonly generation: number;
  /** Consumer tag it was delivered to, or null when taken with `basic.get`. */
  readonly tag: string | null;
  readonly meta: MessageMeta;
  /** Deliveries before this one: `wc-count` + returns by the broker. */
  readonly base: number;
  kind: 'leased' | 'waiting' | 'lookahead';
  message: StoredMessage;
  owner: string | null;
  leaseExpiresAt: number;
  availableAt: number;
  /** Real time this process took it (or last changed its kind). */
  since: number;
}

interface Ch {
  readonly name: string;
  settings: ChannelSettings;
  readonly queues: ChannelQueues;
  /** Insertion order ~ oldest first. */
  readonly held: Map<string, Held>;
  readonly hooks: Set<string>;
  hooksReadAt: number;
  ackedTotal: number;
  expiredTotal: number;
  readonly lock: Mutex;
  /** The consumer on `P.C.ready` (unordered channels, started by the first lease), if any. */
  consumer: Consumer | undefined;
  /** Prefetch of the next consumer: `prefetch`, halved by the sweep, doubled by demand. */
  window: number;
  /** This object put a copy in `P.C.retry` since the last look (the next lease looks at once). */
  retryDirty: boolean;
  retryReadAt: number;
}

/** A `basic.consume` on a channel's ready queue; deliveries become look-ahead in `held`. */
interface Consumer {
  readonly tag: string;
  readonly prefetch: number;
}

export class RabbitmqBuffer implements MessageBuffer {
  readonly kind = 'rabbitmq';
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #holdMs: number;
  readonly #sweepMs: number;
  readonly #prefetch: number;
  readonly #link: AmqpLink;
  readonly #channels = new Map<string, Ch>();
  readonly #watchers = new ChannelWatchers();
  readonly #watched = new Set<string>();
  readonly #recent = new Map<string, 'available' | 'gone'>();
  /** Count queues declared on the current connection (and registered in `P.C.webhooks`). */
  readonly #tallies = new Map<string, Promise<void>>();
  readonly #tallyReads = new Map<string, Promise<number>>();
  readonly #appending = new Map<string, number>();
  /** Every queue name this object declared (tests delete them). */
  readonly #declared = new Set<string>();
  /** One peek at a time per queue (state, webhook list, dead letters), so a peek sees the whole queue. */
  readonly #peekLocks = new Map<string, Mutex>();
  #wakeQueue: string | undefined;
  #deadSeq = 0;
  #tallyTurn = 0;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: RabbitmqBufferOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger();
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#holdMs = options.holdMs ?? 2000;
    this.#sweepMs = options.sweepIntervalMs ?? 1000;
    this.#prefetch = Math.max(1, Math.floor(options.prefetch ?? 200));
    this.#link = new AmqpLink({
      url: options.url ?? rabbitmqUrlFromEnv(),
      logger: this.#logger,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      reconnectMinMs: options.reconnectMinMs ?? 250,
      reconnectMaxMs: options.reconnectMaxMs ?? 5000,
      onUp: (link) => this.#onUp(link),
      onDown: () => this.#onDown(),
    });
  }

  /** First connect attempt and the sweep timer; called by `createRabbitmqBuffer`. */
  async start(): Promise<void> {
    await this.#link.start();
    this.#sweep = setInterval(() => void this.#sweepAll(), this.#sweepMs);
    this.#sweep.unref();
  }

  async ensureChannel(channel: string, settings?: Partial<ChannelSettings>): Promise<void> {
    this.#open();
    const resolved = resolveChannelSettings(settings);
    let ch = this.#channels.get(channel);
    if (ch === undefined) {
      ch = {
        name: channel,
        settings: resolved,
        queues: channelQueues(this.#prefix, channel),
        held: new Map(),
        hooks: new Set(),
        hooksReadAt: 0,
        ackedTotal: 0,
        expiredTotal: 0,
        lock: new Mutex(),
        consumer: undefined,
        window: this.#prefetch,
        retryDirty: false,
        retryReadAt: 0,
      };
      this.#channels.set(channel, ch);
    } else {
      ch.settings = resolved;
    }
    // Declared now when connected, else by the next connect; settings never change the declaration.
    if (this.#link.up) await this.#guard(() => this.#declareChannel(this.#link.channels().aux, ch));
  }

  async append(input: NewMessage): Promise<StoredMessage> {
    const ch = this.#channel(input.channel);
    const id = input.id ?? newMessageId();
    if (ch.held.has(id) || this.#recent.get(id) === 'available') throw duplicateMessageError(id);
    return this.#guard(async () => {
      const link = this.#link.channels();
      const tally = await this.#ensureTally(link, ch, input.webhook_id);
      const live = await this.#tallyCount(link.aux, tally);
      const inFlight = this.#appending.get(tally) ?? 0;
      if (live + inFlight >= ch.settings.max_queue_size) throw queueFullError(ch.name, input.webhook_id);
      this.#appending.set(tally, inFlight + 1);
      const receivedAt = input.received_at ?? this.#now();
      const meta: MessageMeta = { count: 0, expiresAt: expiresAt(ch.settings, receivedAt) };
      try {
        const content = encodeMessage(input, receivedAt);
        await Promise.all([
          publish(link.pub, ch.queues.ready, content, publishOptions(id, meta, receivedAt)),
          publish(link.pub, tally, EMPTY, { persistent: true, messageId: id }),
        ]);
      } finally {
        const left = (this.#appending.get(tally) ?? 1) - 1;
        if (left <= 0) this.#appending.delete(tally);
        else this.#appending.set(tally, left);
      }
      this.#remember(id, 'available');
      this.#wake(link, ch.name);
      return {
        id,
        channel: ch.name,
        webhook_id: input.webhook_id,
        payload: structuredClone(input.payload ?? null),
        body: Buffer.from(input.body),
        content_type: input.content_type,
        headers: { ...input.headers },
        query: { ...input.query },
        received_at: receivedAt,
        expires_at: meta.expiresAt,
        delivery_count: 0,
        metadata: structuredClone(input.metadata ?? {}),
      };
    });
  }

  lease(channel: string, consumerId: string, max: number, leaseMs?: number): Promise<StoredMessage[]> {
    return this.#locked(channel, async (ch, link) => {
      await this.#drainRetry(link, ch);
      await this.#reclaimHeld(link, ch);
      const now = this.#now();
      const deadline = now + leaseLengthMs(ch.settings, leaseMs);
      const limit = ch.settings.ordered ? Math.min(1, max) : max;
      const leased: StoredMessage[] = [];
      const take = (held: Held) => {
        held.kind = 'leased';
        held.owner = consumerId;
        held.leaseExpiresAt = deadline;
        held.since = Date.now();
        held.message = { ...held.message, delivery_count: held.base + 1 };
        leased.push(copy(held.message));
      };
      if (limit <= 0) return leased;
      if (ch.settings.ordered) {
        // One in flight, strictly oldest first: taken with basic.get, never through a prefetch window.
        if (ch.consumer !== undefined) await this.#stopConsuming(link, ch);
        const local = this.#unleased(ch);
        if ([...ch.held.values()].some((h) => h.kind === 'leased')) return leased;
        const head = local.find((h) => h.kind === 'waiting') ?? local[0];
        if (head !== undefined) {
          if (head.availableAt <= now) take(head);
          return leased;
        }
        await this.#getFromReady(link, ch, now, 1, take);
        return leased;
      }
      const takeLocal = async () => {
        for (const held of this.#unleased(ch)) {
          if (leased.length >= limit) break;
          if (held.message.expires_at <= now) await this.#expire(link, ch, held);
          else if (held.availableAt <= now) take(held);
        }
      };
      await takeLocal();
      if (leased.length >= limit) return leased;
      // Short: start the consumer, or wait for the deliveries it may have under way, then look again.
      if (ch.consumer === undefined) await this.#consume(link, ch);
      if (this.#hasCredit(ch)) await this.#flush(link, ch);
      await takeLocal();
      // Still short: our window is full (or the broker has not seen our acks yet): get beyond it.
      const before = leased.length;
      if (leased.length < limit) {
        await this.#getFromReady(link, ch, now, limit - leased.length, take);
        // The queue said empty (a Raft command, applied after every assignment to our consumer): what was
        // assigned to us before is read from the log and sent before that answer; one more round trip
        // and it is here.
        if (leased.length < limit && ch.consumer !== undefined) {
          await this.#flush(link, ch);
          await takeLocal();
        }
      }
      if (leased.length > before && ch.window < this.#prefetch) {
        ch.window = Math.min(this.#prefetch, ch.window * 2);
        await this.#stopConsuming(link, ch); // the next lease consumes with the larger window
      }
      return leased;
    });
  }

  async ack(channel: string, consumerId: string, ids: readonly string[]): Promise<SettleResult[]> {
    const untally = new Map<string, number>();
    const { results, link, ch } = await this.#locked(channel, async (ch, link) => {
      const results: SettleResult[] = [];
      for (const id of ids) {
        const held = ch.held.get(id);
        const outcome = this.#ownership(held, id, consumerId);
        if (outcome === 'ok' && held !== undefined) {
          ch.held.delete(id);
          link.work.ack(held.raw);
          const hook = held.message.webhook_id;
          untally.set(hook, (untally.get(hook) ?? 0) + 1);
          ch.ackedTotal++;
          this.#remember(id, 'gone');
        }
        results.push({ id, outcome });
      }
      return { results, link, ch };
    });
    // Outside the channel lock: the next lease need not wait for the count tokens.
    if (untally.size > 0) {
      await this.#guard(() => Promise.all([...untally].map(([hook, n]) => this.#untally(link, ch, hook, n))));
    }
    return results;
  }

  nack(channel: string, consumerId: string, id: string, options: NackOptions): Promise<NackResult> {
    return this.#locked(channel, async (ch, link) => {
      const held = ch.held.get(id);
      const outcome = this.#ownership(held, id, consumerId);
      if (outcome !== 'ok' || held === undefined) return { id, outcome };
      if (!options.retry) {
        const reason = options.reason ?? DEAD_LETTER_REASONS.rejected;
        await this.#kill(link, ch, held, reason, options.reason ?? null, held.message.delivery_count);
        return { id, outcome, state: 'dead' };
      }
      const state = await this.#fail(link, ch, held, options.delaySeconds, options.reason ?? null);
      return { id, outcome, state };
    });
  }

  release(channel: string, consumerId: string, options: ReleaseOptions = {}): Promise<NackResult[]> {
    return this.#locked(channel, async (ch, link) => {
      const ids =
        options.ids ??
        [...ch.held.values()].filter((h) => h.kind === 'leased' && h.owner === consumerId).map((h) => h.id);
      const results: NackResult[] = [];
      for (const id of ids) {
        const held = ch.held.get(id);
        const outcome = this.#ownership(held, id, consumerId);
        if (outcome !== 'ok' || held === undefined) {
          results.push({ id, outcome });
        } else if (options.countAttempt === false) {
          const count = Math.max(0, held.message.delivery_count - 1);
          await this.#requeue(link, ch, held, count, this.#now(), null);
          results.push({ id, outcome, state: 'available' });
        } else {
          results.push({ id, outcome, state: await this.#fail(link, ch, held, undefined, null) });
        }
      }
      return results;
    });
  }

  extendLease(
    channel: string,
    consumerId: string,
    ids: readonly string[],
    leaseMs: number,
  ): Promise<SettleResult[]> {
    return this.#locked(channel, async (ch) => {
      const deadline = this.#now() + leaseLengthMs(ch.settings, leaseMs);
      return ids.map((id) => {
        const held = ch.held.get(id);
        const outcome = this.#ownership(held, id, consumerId);
        if (outcome === 'ok' && held !== undefined) held.leaseExpiresAt = deadline;
        return { id, outcome };
      });
    });
  }

  reclaimExpired(channel: string): Promise<ReclaimResult> {
    return this.#locked(channel, async (ch, link) => {
      await this.#drainRetry(link, ch, true);
      if (this.#hasCredit(ch)) await this.#flush(link, ch);
      const result = await this.#reclaimHeld(link, ch);
      let expired = result.expired;
      // Scan the head of the ready queue; the first live message stays here as look-ahead.
      if (![...ch.held.values()].some((h) => h.kind === 'lookahead')) {
        const now = this.#now();
        for (;;) {
          const held = await this.#get(link, ch, 'ready');
          if (held === null) break;
          if (held === undefined) continue;
          if (held.message.expires_at > now) break;
          await this.#expire(link, ch, held);
          expired++;
        }
      }
      return { ...result, expired };
    });
  }

  listDeadLetters(channel: string, options: ListOptions = {}): Promise<DeadLetter[]> {
    const limit = Math.max(0, Math.floor(options.limit ?? 100));
    const offset = Math.max(0, Math.floor(options.offset ?? 0));
    return this.#peek(channel, 'dead', offset + limit, () => 'keep').then((seen) =>
      seen.slice(offset, offset + limit).map(({ message, meta }) => toDeadLetter(message, meta)),
    );
  }

  async replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    const wanted = ids === undefined ? undefined : new Set(ids);
    const ch = this.#channel(channel);
    const replayed = await this.#peek(channel, 'dead', Infinity, async (message, meta, link) => {
      if (wanted !== undefined && !wanted.has(message.id)) return 'keep';
      const now = this.#now();
      const fresh: MessageMeta = { count: 0, expiresAt: expiresAt(ch.settings, now) };
      const tally = await this.#ensureTally(link, ch, message.webhook_id);
      await Promise.all([
        publish(
          link.pub,
          ch.queues.ready,
          encodeStored(message),
          publishOptions(message.id, fresh, message.received_at),
        ),
        publish(link.pub, tally, EMPTY, { persistent: true, messageId: message.id }),
      ]);
      this.#remember(message.id, 'available');
      return 'remove';
    });
    const count = replayed.filter((r) => r.removed).length;
    if (count > 0) this.#wake(this.#link.channels(), channel);
    return count;
  }

  async purgeDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    const ch = this.#channel(channel);
    if (ids === undefined) {
      return this.#guard(() =>
        this.#peekLock(ch.queues.dead).run(
          async () => (await this.#link.channels().aux.purgeQueue(ch.queues.dead)).messageCount,
        ),
      );
    }
    const wanted = new Set(ids);
    const seen = await this.#peek(channel, 'dead', Infinity, (message) => {
      if (!wanted.has(message.id)) return 'keep';
      this.#remember(message.id, 'gone');
      return 'remove';
    });
    return seen.filter((r) => r.removed).length;
  }

  async depth(channel: string, webhookId?: string): Promise<number> {
    const ch = this.#channel(channel);
    return this.#guard(async () => {
      const link = this.#link.channels();
      if (webhookId !== undefined) {
        const hooks = await this.#hooks(link, ch, !ch.hooks.has(webhookId));
        return hooks.has(webhookId) ? this.#tallyCount(link.aux, this.#tallyName(ch, webhookId)) : 0;
      }
      const depths = await this.#webhookDepths(link, ch);
      return Object.values(depths).reduce((sum, n) => sum + n, 0);
    });
  }

  async webhookDepths(channel: string): Promise<Record<string, number>> {
    const ch = this.#channel(channel);
    return this.#guard(() => this.#webhookDepths(this.#link.channels(), ch));
  }

  async stats(channel: string): Promise<ChannelStats> {
    const ch = this.#channel(channel);
    return this.#guard(async () => {
      const link = this.#link.channels();
      // The ready count through `work`: deliveries under way to this object's consumer arrive first.
      const [live, ready, retry, dead] = await Promise.all([
        this.#webhookDepths(link, ch).then((d) => Object.values(d).reduce((sum, n) => sum + n, 0)),
        this.#flush(link, ch),
        link.aux.assertQueue(ch.queues.retry, QUORUM),
        link.aux.assertQueue(ch.queues.dead, CLASSIC),
      ]);
      let heldAvailable = 0;
      for (const held of ch.held.values()) if (held.kind !== 'leased') heldAvailable++;
      const available = Math.min(live, ready + retry.messageCount + heldAvailable);
      return {
        available,
        leased: live - available,
        dead: dead.messageCount,
        expired_total: ch.expiredTotal,
        acked_total: ch.ackedTotal,
      };
    });
  }

  async getChannelState(channel: string): Promise<unknown> {
    const ch = this.#channel(channel);
    return this.#guard(() =>
      this.#peekLock(ch.queues.state).run(async () => {
        const aux = this.#link.channels().aux;
        // An empty queue may only mean another instance is peeking right now: look twice more.
        for (let attempt = 0; attempt < 3; attempt++) {
          const got: GetMessage[] = [];
          for (let m = await aux.get(ch.queues.state); m !== false; m = await aux.get(ch.queues.state)) {
            got.push(m);
          }
          const latest = got.at(-1);
          if (latest !== undefined) {
            for (const stale of got.slice(0, -1)) aux.ack(stale);
            aux.nack(latest, false, true);
            return JSON.parse(latest.content.toString('utf8')) as unknown;
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return null;
      }),
    );
  }

  async setChannelState(channel: string, state: unknown): Promise<void> {
    const ch = this.#channel(channel);
    await this.#guard(() =>
      publish(this.#link.channels().pub, ch.queues.state, Buffer.from(JSON.stringify(state ?? null)), {
        persistent: true,
        contentType: 'application/json',
        headers: { 'wc-state-at': this.#now() },
      }),
    );
  }

  watch(channel: string, listener: () => void): () => void {
    const stop = this.#watchers.watch(channel, listener);
    if (!this.#watched.has(channel)) {
      this.#watched.add(channel);
      if (this.#link.up) {
        this.#bindWake(this.#link.channels(), channel).catch((error: unknown) =>
          this.#logger.warn({ err: String(error), channel }, 'rabbitmq buffer: wake binding failed'),
        );
      }
    }
    return stop;
  }

  async health(): Promise<BufferHealth> {
    if (this.#closed) return { ok: false, backend: this.kind, detail: 'closed' };
    if (!this.#link.up) return { ok: false, backend: this.kind, detail: 'broker unreachable' };
    return { ok: true, backend: this.kind };
  }

  /**
   * Hands back what this object holds (leases without counting an attempt, waiting messages to the retry
   * queue, look-ahead to the ready queue), then closes the connection. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#watchers.clear();
    if (this.#link.up) {
      const link = this.#link.channels();
      const handBack = [...this.#channels.values()].map((ch) =>
        ch.lock.run(async () => {
          await this.#stopConsuming(link, ch);
          for (const held of [...ch.held.values()]) {
            const count = held.kind === 'leased' ? Math.max(0, held.message.delivery_count - 1) : held.base;
            const at = held.kind === 'waiting' ? held.availableAt : 0;
            await this.#requeue(
              link,
              ch,
              held,
              count,
              at,
              held.meta.lastError ?? null,
              held.kind === 'waiting',
            );
          }
        }),
      );
      await withTimeout(Promise.allSettled(handBack), 3000);
    }
    await this.#link.close();
  }

  /**
   * Cuts the broker connection without settling anything, as a network failure would; the buffer
   * reconnects by itself. With `{ crash: true }` it also stops for good, as a killed process would
   * (what it held goes back to the queues, counted as failed deliveries). For tests and drills.
   */
  async dropConnection(options: { crash?: boolean } = {}): Promise<void> {
    if (options.crash === true) {
      this.#closed = true;
      if (this.#sweep !== undefined) clearInterval(this.#sweep);
      this.#watchers.clear();
      this.#link.abandon();
      return;
    }
    this.#link.drop();
  }

  /** Every queue and exchange name this object declared (for cleanup of test prefixes). */
  declaredNames(): { queues: string[]; exchanges: string[] } {
    return { queues: [...this.#declared], exchanges: [wakeExchange(this.#prefix)] };
  }

  // --- connection lifecycle ----------------------------------------------------------------------

  async #onUp(link: LinkChannels): Promise<void> {
    this.#tallies.clear();
    this.#tallyReads.clear();
    this.#wakeQueue = undefined;
    await link.aux.assertExchange(wakeExchange(this.#prefix), 'direct', { durable: true });
    for (const ch of this.#channels.values()) await this.#declareChannel(link.aux, ch);
    for (const channel of this.#watched) await this.#bindWake(link, channel);
  }

  #onDown(): void {
    // The broker returns every unacked delivery to its queue: what we held is no longer ours.
    for (const ch of this.#channels.values()) {
      ch.held.clear();
      ch.consumer = undefined;
    }
    this.#tallies.clear();
    this.#tallyReads.clear();
    this.#wakeQueue = undefined;
  }

  async #declareChannel(aux: Channel, ch: Ch): Promise<void> {
    const q = ch.queues;
    for (const [name, options] of [
      [q.ready, QUORUM],
      [q.retry, QUORUM],
      [q.dead, CLASSIC],
      [q.webhooks, CLASSIC],
      [q.state, LAST_VALUE],
    ] as const) {
      this.#declared.add(name);
      await aux.assertQueue(name, options);
    }
  }

  async #bindWake(link: LinkChannels, channel: string): Promise<void> {
    if (this.#wakeQueue === undefined) {
      const { queue } = await link.aux.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      this.#wakeQueue = queue;
      await link.aux.consume(queue, (m) => m && this.#watchers.notify(m.fields.routingKey), { noAck: true });
    }
    await link.aux.bindQueue(this.#wakeQueue, wakeExchange(this.#prefix), channel);
  }

  #wake(link: LinkChannels, channel: string): void {
    this.#watchers.notify(channel);
    try {
      link.pub.publish(wakeExchange(this.#prefix), channel, EMPTY, { persistent: false }, () => undefined);
    } catch {
      // best effort: watchers also sweep with a timer
    }
  }

  // --- held deliveries -----------------------------------------------------------------------------

  /** `basic.get` one message into `held`; null when the queue is empty, undefined for a skipped one. */
  async #get(link: LinkChannels, ch: Ch, from: 'ready' | 'retry'): Promise<Held | null | undefined> {
    const raw = await link.work.get(from === 'ready' ? ch.queues.ready : ch.queues.retry);
    if (raw === false) return null;
    return this.#adopt(link, ch, raw, from === 'ready' ? 'lookahead' : 'waiting', null);
  }

  /** A delivery into `held`; undefined (and acked away) for a foreign message or a second copy. */
  #adopt(
    link: LinkChannels,
    ch: Ch,
    raw: Message,
    kind: 'lookahead' | 'waiting',
    tag: string | null,
  ): Held | undefined {
    const id = raw.properties.messageId as unknown;
    if (typeof id !== 'string' || raw.properties.contentType !== MESSAGE_CONTENT_TYPE) {
      this.#logger.error({ queue: raw.fields.routingKey }, 'rabbitmq buffer: foreign message dropped');
      link.work.ack(raw);
      return undefined;
    }
    if (ch.held.has(id)) {
      // A second copy of a message we hold (a crash between publish and ack): keep one.
      link.work.ack(raw);
      return undefined;
    }
    const { meta, returns } = readMeta(raw);
    const base = meta.count + returns;
    const held: Held = {
      id,
      raw,
      generation: link.generation,
      tag,
      meta,
      base,
      kind,
      message: decodeMessage(id, raw.content, meta, base),
      owner: null,
      leaseExpiresAt: 0,
      availableAt: kind === 'waiting' ? (meta.availableAt ?? 0) : 0,
      since: Date.now(),
    };
    ch.held.set(id, held);
    return held;
  }

  /** Held messages not leased (look-ahead, waiting for a retry), oldest first. */
  #unleased(ch: Ch): Held[] {
    const local = [...ch.held.values()].filter((h) => h.kind !== 'leased');
    return local.sort((a, b) => a.message.received_at - b.message.received_at);
  }

  /**
   * `basic.get` from the ready queue until `want` messages were taken or it is empty; expired ones die on
   * the way. Used by ordered channels, and by unordered ones beyond a full prefetch window.
   */
  async #getFromReady(
    link: LinkChannels,
    ch: Ch,
    now: number,
    want: number,
    take: (held: Held) => void,
  ): Promise<void> {
    let taken = 0;
    while (taken < want) {
      const held = await this.#get(link, ch, 'ready');
      if (held === null) break;
      if (held === undefined) continue;
      if (held.message.expires_at <= now) {
        await this.#expire(link, ch, held);
        continue;
      }
      take(held);
      taken++;
    }
  }

  /**
   * Starts the channel's consumer on `P.C.ready` (prefetch = its window). Deliveries become look-ahead
   * and wake the watchers; a cancel by the broker (queue deleted) forgets the consumer.
   */
  async #consume(link: LinkChannels, ch: Ch): Promise<void> {
    const prefetch = ch.window;
    // What is ready now goes to the new consumer as it starts (up to its prefetch), read from the Raft
    // log: those deliveries can arrive after later answers on this channel, so wait for them (bounded;
    // another instance's consumer may take some of them meanwhile).
    const expected = Math.min(prefetch, await this.#flush(link, ch));
    let arrived = 0;
    let started: (() => void) | undefined;
    await link.work.prefetch(prefetch);
    const { consumerTag } = await link.work.consume(
      ch.queues.ready,
      (raw: ConsumeMessage | null) => {
        if (raw === null) {
          if (ch.consumer?.tag === consumerTag) ch.consumer = undefined;
          return;
        }
        if (this.#adopt(link, ch, raw, 'lookahead', raw.fields.consumerTag) !== undefined) {
          this.#watchers.notify(ch.name);
        }
        if (++arrived >= expected) started?.();
      },
      { noAck: false },
    );
    ch.consumer = { tag: consumerTag, prefetch };
    if (arrived < expected) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        started = resolve;
        timer = setTimeout(resolve, CONSUMER_START_WAIT_MS);
      });
      clearTimeout(timer);
    }
  }

  /** Cancels the consumer; what it delivered stays held (and can still be settled). */
  async #stopConsuming(link: LinkChannels, ch: Ch): Promise<void> {
    const consumer = ch.consumer;
    if (consumer === undefined) return;
    ch.consumer = undefined;
    await link.work.cancel(consumer.tag);
  }

  /** Whether the consumer may have deliveries under way: fewer held from it than its prefetch. */
  #hasCredit(ch: Ch): boolean {
    const consumer = ch.consumer;
    if (consumer === undefined) return false;
    let outstanding = 0;
    for (const held of ch.held.values()) if (held.tag === consumer.tag) outstanding++;
    return outstanding < consumer.prefetch;
  }

  /**
   * A round trip on the `work` channel: every delivery the broker sent to this channel before it
   * answered has arrived when this resolves. A message confirmed to its publisher before the call was
   * already handed to a consumer with credit (the quorum queue assigns at enqueue), so after the flush it
   * is either held here, held by another instance, or still ready in the queue. Resolves to the number
   * of messages ready in the queue.
   */
  async #flush(link: LinkChannels, ch: Ch): Promise<number> {
    return (await link.work.checkQueue(ch.queues.ready)).messageCount;
  }

  /** Retry copies into `held` (as waiting): at once after this object put one there, else at most every 250 ms. */
  async #drainRetry(link: LinkChannels, ch: Ch, force = false): Promise<void> {
    if (!force && !ch.retryDirty && Date.now() - ch.retryReadAt < RETRY_POLL_MS) return;
    ch.retryDirty = false;
    ch.retryReadAt = Date.now();
    while ((await this.#get(link, ch, 'retry')) !== null);
  }

  /** Expired leases fail (retry or dead); held messages past their TTL die `expired`. */
  async #reclaimHeld(link: LinkChannels, ch: Ch, graceMs = 0): Promise<ReclaimResult> {
    const now = this.#now();
    let released = 0;
    let deadLettered = 0;
    let expired = 0;
    for (const held of [...ch.held.values()]) {
      if (held.kind === 'leased' && held.leaseExpiresAt + graceMs <= now) {
        if (held.message.expires_at <= now) {
          released++;
          await this.#expire(link, ch, held);
          expired++;
        } else if ((await this.#fail(link, ch, held, undefined, null)) === 'dead') deadLettered++;
        else released++;
      } else if (held.kind !== 'leased' && held.message.expires_at + graceMs <= now) {
        await this.#expire(link, ch, held);
        expired++;
      }
    }
    return { released, deadLettered, expired };
  }

  /** A failed delivery of a leased message: retry after the backoff, or dead when attempts are used. */
  async #fail(
    link: LinkChannels,
    ch: Ch,
    held: Held,
    delaySeconds: number | undefined,
    error: string | null,
  ): Promise<'available' | 'dead'> {
    const count = held.message.delivery_count;
    const next = afterFailedDelivery(ch.settings, count, this.#now(), delaySeconds);
    if (next.state === 'dead') {
      await this.#kill(link, ch, held, next.reason, error, count);
      return 'dead';
    }
    await this.#requeue(link, ch, held, count, next.availableAt, error);
    return 'available';
  }

  /** New copy with `count` recorded: to the retry queue when not due yet (or ordered), else ready. */
  async #requeue(
    link: LinkChannels,
    ch: Ch,
    held: Held,
    count: number,
    availableAt: number,
    lastError: string | null,
    forceRetry = false,
  ): Promise<void> {
    const toRetry = forceRetry || availableAt > this.#now() || ch.settings.ordered;
    const meta: MessageMeta = {
      count,
      expiresAt: held.meta.expiresAt,
      ...(toRetry ? { availableAt } : {}),
      lastError,
    };
    await this.#move(link, ch, held, toRetry ? ch.queues.retry : ch.queues.ready, meta);
    this.#remember(held.id, 'available');
    if (toRetry) ch.retryDirty = true;
    else this.#wake(link, ch.name);
  }

  /** Dead letter with a reason; its count token goes. */
  async #kill(
    link: LinkChannels,
    ch: Ch,
    held: Held,
    reason: string,
    lastError: string | null,
    count: number,
  ): Promise<void> {
    const meta: MessageMeta = {
      count,
      expiresAt: held.meta.expiresAt,
      reason,
      lastError,
      deadAt: this.#now(),
      deadSeq: ++this.#deadSeq,
    };
    await this.#move(link, ch, held, ch.queues.dead, meta);
    await this.#untally(link, ch, held.message.webhook_id);
    this.#remember(held.id, 'gone');
  }

  async #expire(link: LinkChannels, ch: Ch, held: Held): Promise<void> {
    await this.#kill(link, ch, held, DEAD_LETTER_REASONS.expired, null, held.base);
    ch.expiredTotal++;
  }

  /** Publish a copy to `queue`, wait for its confirm, then ack the held delivery. */
  async #move(link: LinkChannels, ch: Ch, held: Held, queue: string, meta: MessageMeta): Promise<void> {
    ch.held.delete(held.id);
    try {
      await publish(
        link.pub,
        queue,
        held.raw.content,
        publishOptions(held.id, meta, held.message.received_at),
      );
    } catch (error) {
      if (held.generation === link.generation && this.#link.up) ch.held.set(held.id, held);
      throw error;
    }
    if (held.generation === link.generation) link.work.ack(held.raw);
  }

  #ownership(held: Held | undefined, id: string, consumerId: string): SettleOutcome {
    if (held === undefined) return this.#recent.get(id) === 'available' ? 'not_leased' : 'not_found';
    if (held.kind !== 'leased') return 'not_leased';
    return held.owner === consumerId ? 'ok' : 'not_owner';
  }

  #remember(id: string, state: 'available' | 'gone'): void {
    this.#recent.delete(id);
    this.#recent.set(id, state);
    if (this.#recent.size > RECENT_IDS) {
      const oldest = this.#recent.keys().next();
      if (oldest.done !== true) this.#recent.delete(oldest.value);
    }
  }

  /** Timer: hand back what sat here too long, reclaim leases nobody reclaimed (see `holdMs`). */
  async #sweepAll(): Promise<void> {
    if (this.#closed || !this.#link.up) return;
    for (const ch of this.#channels.values()) {
      if (ch.held.size === 0) continue;
      await ch.lock
        .run(async () => {
          const link = this.#link.channels();
          await this.#reclaimHeld(link, ch, this.#holdMs);
          if (ch.settings.ordered) return;
          const now = this.#now();
          const staleAt = Date.now() - this.#holdMs;
          const isStale = (h: Held) => h.kind !== 'leased' && h.availableAt <= now && h.since <= staleAt;
          if (![...ch.held.values()].some(isStale)) return;
          // Nobody here leased them in time: stop taking more (a smaller window next time), hand them back.
          if (
            ch.consumer !== undefined &&
            [...ch.held.values()].some((h) => h.kind === 'lookahead' && isStale(h))
          ) {
            await this.#stopConsuming(link, ch);
            ch.window = Math.max(1, Math.floor(ch.window / 2));
          }
          await Promise.all(
            [...ch.held.values()]
              .filter(isStale)
              .map((held) => this.#requeue(link, ch, held, held.base, now, held.meta.lastError ?? null)),
          );
        })
        .catch((error: unknown) =>
          this.#logger.warn({ err: String(error), channel: ch.name }, 'rabbitmq buffer: sweep failed'),
        );
    }
  }

  // --- counts ------------------------------------------------------------------------------------

  #tallyName(ch: Ch, webhookId: string): string {
    return tallyQueue(this.#prefix, ch.name, webhookId);
  }

  /** Declares the count queue of (channel, webhook) once per connection and lists the webhook. */
  #ensureTally(link: LinkChannels, ch: Ch, webhookId: string): Promise<string> {
    const name = this.#tallyName(ch, webhookId);
    let ready = this.#tallies.get(name);
    if (ready === undefined) {
      ready = (async () => {
        this.#declared.add(name);
        await link.aux.assertQueue(name, CLASSIC);
        const hooks = await this.#hooks(link, ch, true);
        if (!hooks.has(webhookId)) {
          await publish(link.pub, ch.queues.webhooks, Buffer.from(webhookId, 'utf8'), { persistent: true });
          ch.hooks.add(webhookId);
        }
      })();
      this.#tallies.set(name, ready);
      ready.catch(() => this.#tallies.delete(name));
    }
    return ready.then(() => name);
  }

  /** Message count of a count queue; concurrent callers share one round trip. */
  #tallyCount(aux: Channel, name: string): Promise<number> {
    let read = this.#tallyReads.get(name);
    if (read === undefined) {
      read = aux.assertQueue(name, CLASSIC).then((r) => r.messageCount);
      this.#tallyReads.set(name, read);
      const clear = () => {
        if (this.#tallyReads.get(name) === read) this.#tallyReads.delete(name);
      };
      read.then(clear, clear);
    }
    return read;
  }

  /** Removes `n` count tokens of (channel, webhook), spread over the `tally` channels. */
  async #untally(link: LinkChannels, ch: Ch, webhookId: string, n = 1): Promise<void> {
    const name = await this.#ensureTally(link, ch, webhookId);
    const gets: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const channel = link.tally[this.#tallyTurn++ % link.tally.length] as Channel;
      gets.push(channel.get(name, { noAck: true }));
    }
    await Promise.all(gets);
  }

  async #webhookDepths(link: LinkChannels, ch: Ch): Promise<Record<string, number>> {
    const hooks = [...(await this.#hooks(link, ch, false))].sort();
    const counts = await Promise.all(hooks.map((w) => this.#tallyCount(link.aux, this.#tallyName(ch, w))));
    const depths: Record<string, number> = {};
    hooks.forEach((hook, i) => {
      const n = counts[i] ?? 0;
      if (n > 0) depths[hook] = n;
    });
    return depths;
  }

  /** The webhook ids of a channel: what this object saw plus `P.C.webhooks` (re-read at most 1/s). */
  async #hooks(link: LinkChannels, ch: Ch, force: boolean): Promise<Set<string>> {
    if (!force && Date.now() - ch.hooksReadAt < 1000) return ch.hooks;
    await this.#peekLock(ch.queues.webhooks).run(async () => {
      const got: GetMessage[] = [];
      for (
        let m = await link.aux.get(ch.queues.webhooks);
        m !== false;
        m = await link.aux.get(ch.queues.webhooks)
      ) {
        got.push(m);
      }
      const seen = new Set<string>();
      for (const m of got) {
        const hook = m.content.toString('utf8');
        if (seen.has(hook)) link.aux.ack(m);
        else {
          seen.add(hook);
          ch.hooks.add(hook);
          link.aux.nack(m, false, true);
        }
      }
      ch.hooksReadAt = Date.now();
    });
    for (const name of ch.hooks) this.#declared.add(this.#tallyName(ch, name));
    return ch.hooks;
  }

  // --- peeking the dead-letter queue ---------------------------------------------------------------

  /**
   * Gets up to `max` messages of a queue (classic: a requeue keeps the position), asks `decide` for each,
   * acks the removed ones after `decide` resolved and requeues the rest, in order.
   */
  async #peek(
    channel: string,
    which: 'dead',
    max: number,
    decide: (
      message: StoredMessage,
      meta: MessageMeta,
      link: LinkChannels,
    ) => 'keep' | 'remove' | Promise<'keep' | 'remove'>,
  ): Promise<{ message: StoredMessage; meta: MessageMeta; removed: boolean }[]> {
    const ch = this.#channel(channel);
    const queue = ch.queues[which];
    return this.#guard(() =>
      this.#peekLock(queue).run(async () => {
        const link = this.#link.channels();
        const seen: { message: StoredMessage; meta: MessageMeta; removed: boolean }[] = [];
        const deliveries: Message[] = [];
        try {
          while (seen.length < max) {
            const raw = await link.aux.get(queue);
            if (raw === false) break;
            deliveries.push(raw);
            const id = raw.properties.messageId as unknown;
            if (typeof id !== 'string') continue;
            const { meta } = readMeta(raw);
            const message = decodeMessage(id, raw.content, meta, meta.count);
            const removed = (await decide(message, meta, link)) === 'remove';
            if (removed) {
              link.aux.ack(raw);
              deliveries.pop();
            }
            seen.push({ message, meta, removed });
          }
        } finally {
          for (const raw of deliveries) link.aux.nack(raw, false, true);
        }
        return seen;
      }),
    );
  }

  // --- plumbing ------------------------------------------------------------------------------------

  #peekLock(queue: string): Mutex {
    let lock = this.#peekLocks.get(queue);
    if (lock === undefined) this.#peekLocks.set(queue, (lock = new Mutex()));
    return lock;
  }

  #open(): void {
    if (this.#closed) throw bufferUnavailableError(new Error('buffer closed'));
  }

  #channel(name: string): Ch {
    this.#open();
    const ch = this.#channels.get(name);
    if (ch === undefined) throw channelNotFoundError(name);
    return ch;
  }

  /** Runs `op` under the channel's lock, with the live link; broker errors become `WC_BUFFER_UNAVAILABLE`. */
  #locked<T>(channel: string, op: (ch: Ch, link: LinkChannels) => Promise<T>): Promise<T> {
    try {
      const ch = this.#channel(channel);
      return ch.lock.run(() => this.#guard(() => op(ch, this.#link.channels())));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (isWebhookConnectError(error)) throw error;
      throw bufferUnavailableError(error);
    }
  }
}

/** Publishes and resolves on the broker's confirm; a nack or a closed channel rejects. */
function publish(
  pub: ConfirmChannel,
  queue: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      pub.publish('', queue, content, options, (error) =>
        error === null || error === undefined ? resolve() : reject(bufferUnavailableError(error)),
      );
    } catch (error) {
      reject(bufferUnavailableError(error));
    }
  });
}

/** Re-encodes a decoded message (replay publishes a fresh copy). */
function encodeStored(message: StoredMessage): Buffer {
  return encodeMessage(message, message.received_at);
}

function toDeadLetter(message: StoredMessage, meta: MessageMeta): DeadLetter {
  return {
    ...message,
    reason: meta.reason ?? DEAD_LETTER_REASONS.rejected,
    last_error: meta.lastError ?? null,
    dead_at: meta.deadAt ?? 0,
  };
}

function copy(message: StoredMessage): StoredMessage {
  return {
    ...message,
    payload: structuredClone(message.payload),
    body: Buffer.from(message.body),
    headers: { ...message.headers },
    query: { ...message.query },
    metadata: structuredClone(message.metadata),
  };
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Runs async sections one at a time, in call order. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * In-process buffer for throwaway development only: everything is lost when the process exits. Same
 * contract and lifecycle as the durable backends (see types.ts); scans are linear, which is fine at
 * development sizes.
 */
import { silentLogger, type Logger } from '../../observability/logger.js';
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
  type SettleResult,
  type StoredMessage,
} from '../types.js';
import { ChannelWatchers } from '../watchers.js';

/** Startup warning; the relay logs it so nobody mistakes this backend for a durable one. */
export const MEMORY_BUFFER_WARNING =
  'memory buffer: for throwaway development only, every buffered webhook is lost when the process exits';

interface Row {
  message: StoredMessage;
  state: 'available' | 'leased' | 'dead';
  availableAt: number;
  leaseOwner: string | null;
  leaseExpiresAt: number;
  reason: string | null;
  lastError: string | null;
  deadAt: number;
}

interface Channel {
  settings: ChannelSettings;
  /** Insertion order is FIFO order. */
  readonly rows: Map<string, Row>;
  /** Live (available + leased) rows per webhook id, kept at every state change (no scans). */
  readonly live: Map<string, number>;
  ackedTotal: number;
  expiredTotal: number;
  state: unknown;
}

export function createMemoryBuffer(options: BufferOptions = {}): MessageBuffer {
  return new MemoryBuffer(options);
}

class MemoryBuffer implements MessageBuffer {
  readonly kind = 'memory';
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #channels = new Map<string, Channel>();
  readonly #watchers = new ChannelWatchers();
  #closed = false;

  constructor(options: BufferOptions) {
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger();
    this.#logger.warn(MEMORY_BUFFER_WARNING);
  }

  async ensureChannel(channel: string, settings?: Partial<ChannelSettings>): Promise<void> {
    this.#open();
    const resolved = resolveChannelSettings(settings);
    const existing = this.#channels.get(channel);
    if (existing !== undefined) existing.settings = resolved;
    else
      this.#channels.set(channel, {
        settings: resolved,
        rows: new Map(),
        live: new Map(),
        ackedTotal: 0,
        expiredTotal: 0,
        state: null,
      });
  }

  async append(input: NewMessage): Promise<StoredMessage> {
    const ch = this.#channel(input.channel);
    const id = input.id ?? newMessageId();
    if (ch.rows.has(id)) throw duplicateMessageError(id);
    if ((ch.live.get(input.webhook_id) ?? 0) >= ch.settings.max_queue_size)
      throw queueFullError(input.channel, input.webhook_id);
    const receivedAt = input.received_at ?? this.#now();
    const message: StoredMessage = {
      id,
      channel: input.channel,
      webhook_id: input.webhook_id,
      payload: structuredClone(input.payload ?? null),
      body: Buffer.from(input.body),
      content_type: input.content_type,
      headers: { ...input.headers },
      query: { ...input.query },
      received_at: receivedAt,
      expires_at: expiresAt(ch.settings, receivedAt),
      delivery_count: 0,
      metadata: structuredClone(input.metadata ?? {}),
    };
    countLive(ch, input.webhook_id, 1);
    ch.rows.set(id, {
      message,
      state: 'available',
      availableAt: receivedAt,
      leaseOwner: null,
      leaseExpiresAt: 0,
      reason: null,
      lastError: null,
      deadAt: 0,
    });
    this.#watchers.notify(input.channel);
    return copy(message);
  }

  async lease(channel: string, consumerId: string, max: number, leaseMs?: number): Promise<StoredMessage[]> {
    const ch = this.#channel(channel);
    this.#reclaim(ch);
    const now = this.#now();
    const deadline = now + leaseLengthMs(ch.settings, leaseMs);
    const leased: StoredMessage[] = [];
    const limit = ch.settings.ordered ? Math.min(1, max) : max;
    for (const row of ch.rows.values()) {
      if (leased.length >= limit) break;
      if (ch.settings.ordered && row.state === 'leased') break;
      if (row.state !== 'available') continue;
      if (row.availableAt > now) {
        if (ch.settings.ordered) break;
        continue;
      }
      row.state = 'leased';
      row.leaseOwner = consumerId;
      row.leaseExpiresAt = deadline;
      row.message = { ...row.message, delivery_count: row.message.delivery_count + 1 };
      leased.push(copy(row.message));
    }
    return leased;
  }

  async ack(channel: string, consumerId: string, ids: readonly string[]): Promise<SettleResult[]> {
    const ch = this.#channel(channel);
    return ids.map((id) => {
      const row = ch.rows.get(id);
      const outcome = ownership(row, consumerId);
      if (outcome === 'ok' && row !== undefined) {
        ch.rows.delete(id);
        countLive(ch, row.message.webhook_id, -1);
        ch.ackedTotal++;
      }
      return { id, outcome };
    });
  }

  async nack(channel: string, consumerId: string, id: string, options: NackOptions): Promise<NackResult> {
    const ch = this.#channel(channel);
    const row = ch.rows.get(id);
    const outcome = ownership(row, consumerId);
    if (outcome !== 'ok' || row === undefined) return { id, outcome };
    if (!options.retry) {
      this.#kill(row, options.reason ?? DEAD_LETTER_REASONS.rejected, options.reason ?? null);
      return { id, outcome, state: 'dead' };
    }
    return { id, outcome, state: this.#fail(ch, row, options.delaySeconds, options.reason ?? null) };
  }

  async release(channel: string, consumerId: string, options: ReleaseOptions = {}): Promise<NackResult[]> {
    const ch = this.#channel(channel);
    const ids =
      options.ids ??
      [...ch.rows.values()]
        .filter((r) => r.state === 'leased' && r.leaseOwner === consumerId)
        .map((r) => r.message.id);
    return ids.map((id) => {
      const row = ch.rows.get(id);
      const outcome = ownership(row, consumerId);
      if (outcome !== 'ok' || row === undefined) return { id, outcome };
      if (options.countAttempt === false) {
        row.message = { ...row.message, delivery_count: Math.max(0, row.message.delivery_count - 1) };
        this.#makeAvailable(row, this.#now());
        this.#watchers.notify(channel);
        return { id, outcome, state: 'available' };
      }
      return { id, outcome, state: this.#fail(ch, row, undefined, null) };
    });
  }

  async extendLease(
    channel: string,
    consumerId: string,
    ids: readonly string[],
    leaseMs: number,
  ): Promise<SettleResult[]> {
    const ch = this.#channel(channel);
    const deadline = this.#now() + leaseLengthMs(ch.settings, leaseMs);
    return ids.map((id) => {
      const row = ch.rows.get(id);
      const outcome = ownership(row, consumerId);
      if (outcome === 'ok' && row !== undefined) row.leaseExpiresAt = deadline;
      return { id, outcome };
    });
  }

  async reclaimExpired(channel: string): Promise<ReclaimResult> {
    return this.#reclaim(this.#channel(channel));
  }

  async listDeadLetters(channel: string, options: ListOptions = {}): Promise<DeadLetter[]> {
    const ch = this.#channel(channel);
    const offset = options.offset ?? 0;
    const limit = options.limit ?? 100;
    return [...ch.rows.values()]
      .filter((row) => row.state === 'dead')
      .slice(offset, offset + limit)
      .map((row) => ({
        ...copy(row.message),
        reason: row.reason ?? DEAD_LETTER_REASONS.rejected,
        last_error: row.lastError,
        dead_at: row.deadAt,
      }));
  }

  async replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    const ch = this.#channel(channel);
    const now = this.#now();
    let replayed = 0;
    for (const row of this.#deadRows(ch, ids)) {
      row.message = { ...row.message, delivery_count: 0, expires_at: expiresAt(ch.settings, now) };
      row.reason = null;
      row.lastError = null;
      this.#makeAvailable(row, now);
      countLive(ch, row.message.webhook_id, 1);
      replayed++;
    }
    if (replayed > 0) this.#watchers.notify(channel);
    return replayed;
  }

  async purgeDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    const ch = this.#channel(channel);
    let purged = 0;
    for (const row of this.#deadRows(ch, ids)) {
      ch.rows.delete(row.message.id);
      purged++;
    }
    return purged;
  }

  async depth(channel: string, webhookId?: string): Promise<number> {
    const { live } = this.#channel(channel);
    if (webhookId !== undefined) return live.get(webhookId) ?? 0;
    let total = 0;
    for (const count of live.values()) total += count;
    return total;
  }

  async webhookDepths(channel: string): Promise<Record<string, number>> {
    return Object.fromEntries(this.#channel(channel).live);
  }

  async stats(channel: string): Promise<ChannelStats> {
    const ch = this.#channel(channel);
    const counts = { available: 0, leased: 0, dead: 0 };
    for (const row of ch.rows.values()) counts[row.state]++;
    return { ...counts, expired_total: ch.expiredTotal, acked_total: ch.ackedTotal };
  }

  async getChannelState(channel: string): Promise<unknown> {
    return structuredClone(this.#channel(channel).state);
  }

  async setChannelState(channel: string, state: unknown): Promise<void> {
    this.#channel(channel).state = structuredClone(state ?? null);
  }

  watch(channel: string, listener: () => void): () => void {
    return this.#watchers.watch(channel, listener);
  }

  async health(): Promise<BufferHealth> {
    return this.#closed
      ? { ok: false, backend: this.kind, detail: 'closed' }
      : { ok: true, backend: this.kind };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watchers.clear();
    this.#channels.clear();
  }

  #open(): void {
    if (this.#closed) throw bufferUnavailableError(new Error('buffer closed'));
  }

  #channel(name: string): Channel {
    this.#open();
    const ch = this.#channels.get(name);
    if (ch === undefined) throw channelNotFoundError(name);
    return ch;
  }

  /** A failed delivery of a leased row: back to available after backoff, or dead. */
  #fail(ch: Channel, row: Row, delaySeconds: number | undefined, error: string | null): 'available' | 'dead' {
    const now = this.#now();
    const next = afterFailedDelivery(ch.settings, row.message.delivery_count, now, delaySeconds);
    if (next.state === 'dead') {
      this.#kill(row, next.reason, error);
      return 'dead';
    }
    row.lastError = error;
    this.#makeAvailable(row, next.availableAt);
    this.#watchers.notify(row.message.channel);
    return 'available';
  }

  #kill(row: Row, reason: string, error: string | null): void {
    const ch = this.#channels.get(row.message.channel);
    if (ch !== undefined) countLive(ch, row.message.webhook_id, -1);
    row.state = 'dead';
    row.reason = reason;
    row.lastError = error;
    row.deadAt = this.#now();
    row.leaseOwner = null;
  }

  #makeAvailable(row: Row, at: number): void {
    row.state = 'available';
    row.availableAt = at;
    row.leaseOwner = null;
    row.leaseExpiresAt = 0;
  }

  #reclaim(ch: Channel): ReclaimResult {
    const now = this.#now();
    let released = 0;
    let deadLettered = 0;
    let expired = 0;
    for (const row of ch.rows.values()) {
      if (row.state === 'leased' && row.leaseExpiresAt <= now) {
        if (this.#fail(ch, row, undefined, null) === 'dead') deadLettered++;
        else released++;
      }
      if (row.state === 'available' && row.message.expires_at <= now) {
        this.#kill(row, DEAD_LETTER_REASONS.expired, null);
        ch.expiredTotal++;
        expired++;
      }
    }
    return { released, deadLettered, expired };
  }

  #deadRows(ch: Channel, ids: readonly string[] | undefined): Row[] {
    const rows = ids === undefined ? [...ch.rows.values()] : ids.map((id) => ch.rows.get(id));
    return rows.filter((row): row is Row => row !== undefined && row.state === 'dead');
  }
}

function ownership(row: Row | undefined, consumerId: string): SettleResult['outcome'] {
  if (row === undefined || row.state === 'dead') return 'not_found';
  if (row.state !== 'leased') return 'not_leased';
  return row.leaseOwner === consumerId ? 'ok' : 'not_owner';
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

/** Adds `delta` to a webhook's live count; a webhook with none left is omitted. */
function countLive(ch: Channel, webhookId: string, delta: number): void {
  const count = (ch.live.get(webhookId) ?? 0) + delta;
  if (count > 0) ch.live.set(webhookId, count);
  else ch.live.delete(webhookId);
}

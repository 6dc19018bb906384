/**
 * The default buffer: one embedded SQLite file (better-sqlite3, WAL). Every write goes through the group
 * committer, so many concurrent writes share one commit. A resolved `append` (and every admin change) is
 * fsynced, off the event loop: it survives a power loss. Lease, ack, nack and release resolve at their
 * commit: they survive a crash of the process, and a power loss can only make a message be delivered
 * again, never lose it (group-commit.ts). Reads (depth, stats, dead-letter lists) run directly against
 * the last commit. One process owns a store; a second buffer object on the same file (a restart) sees
 * everything committed, leases included. Schema: migrations/, one file per operation in operations/.
 */
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { silentLogger, type Logger } from '../../observability/logger.js';
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
import { GroupCommitter, type Durability } from './group-commit.js';
import { DEFAULT_SQLITE_PATH, openStore } from './open.js';
import { ack } from './operations/ack.js';
import { append } from './operations/append.js';
import { getChannelState, setChannelState } from './operations/channel-state.js';
import type { OpContext } from './operations/context.js';
import { depth, stats, webhookDepths } from './operations/counts.js';
import { listDeadLetters, purgeDeadLetters, replayDeadLetters } from './operations/dead-letters.js';
import { extendLease } from './operations/extend-lease.js';
import { lease } from './operations/lease.js';
import { nack } from './operations/nack.js';
import { reclaim } from './operations/reclaim.js';
import { release } from './operations/release.js';
import { prepareStatements, type Statements } from './statements.js';

export { DEFAULT_SQLITE_PATH } from './open.js';

export interface SqliteBufferOptions extends BufferOptions {
  /** Store file; its directory is created. Default `./data/webhook-connect.sqlite` (from the working directory). */
  readonly path?: string;
  /** Most operations committed in one transaction. Default 1000. */
  readonly maxBatch?: number;
  /** How long to wait for a write lock held by another connection, ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

/** Opens (and migrates) the store; throws `WC_BUFFER_UNAVAILABLE` when the file cannot be opened. */
export function createSqliteBuffer(options: SqliteBufferOptions = {}): MessageBuffer {
  const path = options.path ?? DEFAULT_SQLITE_PATH;
  let db: Database.Database;
  try {
    db = openStore(path, options.busyTimeoutMs ?? 5000);
  } catch (error) {
    throw bufferUnavailableError(error);
  }
  return new SqliteBuffer(db, path, options);
}

class SqliteBuffer implements MessageBuffer {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #st: Statements;
  readonly #committer: GroupCommitter;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #settings = new Map<string, ChannelSettings>();
  readonly #watchers = new ChannelWatchers();
  #closed = false;

  constructor(db: Database.Database, path: string, options: SqliteBufferOptions) {
    this.#db = db;
    this.#st = prepareStatements(db);
    this.#committer = new GroupCommitter(db, {
      maxBatch: options.maxBatch ?? 1000,
      walPath: path === ':memory:' ? undefined : `${resolve(path)}-wal`,
    });
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger();
    this.#logger.debug({ path }, 'sqlite buffer opened');
  }

  async ensureChannel(channel: string, settings?: Partial<ChannelSettings>): Promise<void> {
    this.#open();
    this.#settings.set(channel, resolveChannelSettings(settings));
  }

  async append(message: NewMessage): Promise<StoredMessage> {
    const id = message.id ?? newMessageId();
    const stored = await this.#write(message.channel, (ctx) => append(ctx, message, id), 'power_loss');
    this.#watchers.notify(message.channel);
    return stored;
  }

  lease(channel: string, consumerId: string, max: number, leaseMs?: number): Promise<StoredMessage[]> {
    return this.#write(channel, (ctx) => lease(ctx, consumerId, max, leaseMs), 'crash');
  }

  ack(channel: string, consumerId: string, ids: readonly string[]): Promise<SettleResult[]> {
    return this.#write(channel, (ctx) => ack(ctx, consumerId, ids), 'crash');
  }

  async nack(channel: string, consumerId: string, id: string, options: NackOptions): Promise<NackResult> {
    const result = await this.#write(channel, (ctx) => nack(ctx, consumerId, id, options), 'crash');
    if (result.state === 'available') this.#watchers.notify(channel);
    return result;
  }

  async release(channel: string, consumerId: string, options: ReleaseOptions = {}): Promise<NackResult[]> {
    const results = await this.#write(channel, (ctx) => release(ctx, consumerId, options), 'crash');
    if (results.some((r) => r.state === 'available')) this.#watchers.notify(channel);
    return results;
  }

  extendLease(
    channel: string,
    consumerId: string,
    ids: readonly string[],
    leaseMs: number,
  ): Promise<SettleResult[]> {
    return this.#write(channel, (ctx) => extendLease(ctx, consumerId, ids, leaseMs), 'crash');
  }

  async reclaimExpired(channel: string): Promise<ReclaimResult> {
    const result = await this.#write(channel, reclaim, 'crash');
    if (result.released > 0) this.#watchers.notify(channel);
    return result;
  }

  async listDeadLetters(channel: string, options: ListOptions = {}): Promise<DeadLetter[]> {
    return this.#read(channel, () => listDeadLetters(this.#st, channel, options));
  }

  async replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    const replayed = await this.#write(channel, (ctx) => replayDeadLetters(ctx, ids), 'power_loss');
    if (replayed > 0) this.#watchers.notify(channel);
    return replayed;
  }

  purgeDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    return this.#write(channel, (ctx) => purgeDeadLetters(ctx, ids), 'power_loss');
  }

  async depth(channel: string, webhookId?: string): Promise<number> {
    return this.#read(channel, () => depth(this.#st, channel, webhookId));
  }

  async webhookDepths(channel: string): Promise<Record<string, number>> {
    return this.#read(channel, () => webhookDepths(this.#st, channel));
  }

  async stats(channel: string): Promise<ChannelStats> {
    return this.#read(channel, () => stats(this.#st, channel));
  }

  async getChannelState(channel: string): Promise<unknown> {
    return this.#read(channel, () => getChannelState(this.#st, channel));
  }

  async setChannelState(channel: string, state: unknown): Promise<void> {
    await this.#write(channel, (ctx) => setChannelState(ctx.st, channel, state, ctx.now), 'power_loss');
  }

  watch(channel: string, listener: () => void): () => void {
    return this.#watchers.watch(channel, listener);
  }

  async health(): Promise<BufferHealth> {
    if (this.#closed) return { ok: false, backend: this.kind, detail: 'closed' };
    try {
      this.#st.ping.get();
      return { ok: true, backend: this.kind };
    } catch {
      return { ok: false, backend: this.kind, detail: 'store not readable' };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.clear();
    await this.#committer.drain(); // queued writes still commit, fsync and settle
    this.#db.close();
  }

  /** Queues a write for the next group commit. The clock is read when the batch runs. */
  #write<T>(channel: string, op: (ctx: OpContext) => T, durability: Durability): Promise<T> {
    try {
      const settings = this.#channelSettings(channel);
      return this.#committer.run(() => op({ st: this.#st, channel, settings, now: this.#now() }), durability);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #read<T>(channel: string, op: () => T): T {
    this.#channelSettings(channel);
    try {
      return op();
    } catch (error) {
      throw bufferUnavailableError(error);
    }
  }

  #channelSettings(channel: string): ChannelSettings {
    this.#open();
    const settings = this.#settings.get(channel);
    if (settings === undefined) throw channelNotFoundError(channel);
    return settings;
  }

  #open(): void {
    if (this.#closed) throw bufferUnavailableError(new Error('buffer closed'));
  }
}

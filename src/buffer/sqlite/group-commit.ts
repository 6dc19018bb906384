/**
 * Group commit with the fsync off the event loop.
 *
 * Every write operation is queued; on the next `setImmediate` all queued operations run in one
 * `BEGIN IMMEDIATE` transaction, each inside its own savepoint (one failing operation rolls back only
 * itself). The store runs `synchronous=NORMAL` in WAL mode, so the COMMIT writes the WAL into the
 * operating system's cache without waiting for the disk: from then on the write survives a crash of this
 * process. better-sqlite3 is synchronous, so a COMMIT that fsynced (`synchronous=FULL`) would stall every
 * request for the length of the disk flush; instead the flush runs on libuv's thread pool.
 *
 * Each write says what it must survive before its caller settles:
 *
 * - `crash` (lease, ack, nack, release): settles right after the COMMIT. A power loss or kernel crash can
 *   undo it, and then a message is only delivered again (at-least-once), never lost.
 * - `power_loss` (a new message, an admin change): settles after an `fsync` of the WAL file that started
 *   after its COMMIT — the same guarantee as `synchronous=FULL`. One fsync covers every commit before it,
 *   so while one runs, the commits made meanwhile wait for the next: at most one fsync is in flight and
 *   N concurrent appends share it.
 *
 * ```
 *   run(op) ──queued──▶ batch COMMIT (next turn) ──crash──────────────────────────▶ settled
 *                                                └─power_loss─▶ awaiting fsync ──fsync done──▶ settled
 *                                                                               └─fsync failed─▶ rejected (WC_BUFFER_UNAVAILABLE)
 * ```
 *
 * Writes that arrive while a commit runs queue for the next batch. Checkpoints keep SQLite's own fsyncs
 * (NORMAL syncs the WAL before and the database after each checkpoint).
 */
import { open } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import { isWebhookConnectError } from '../../shared/errors.js';
import { bufferUnavailableError } from '../errors.js';

/** What a committed write must survive before its caller settles. */
export type Durability = 'power_loss' | 'crash';

interface Pending {
  readonly op: () => unknown;
  readonly durability: Durability;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export interface GroupCommitterOptions {
  /** Most operations committed in one transaction. */
  readonly maxBatch: number;
  /** The WAL file to fsync for `power_loss` writes; undefined for a store without one (`:memory:`). */
  readonly walPath: string | undefined;
  /** Flushes `path` to disk. Default: open, `fsync`, close on libuv's thread pool. */
  readonly syncFile?: (path: string) => Promise<void>;
}

export class GroupCommitter {
  readonly #db: Database.Database;
  readonly #maxBatch: number;
  readonly #walPath: string | undefined;
  readonly #syncFile: (path: string) => Promise<void>;
  readonly #savepoint: (op: () => unknown) => unknown;
  #queue: Pending[] = [];
  #scheduled = false;
  /** Committed `power_loss` writes waiting for the next fsync. */
  #awaitingSync: { readonly value: unknown; readonly item: Pending }[] = [];
  #syncing: Promise<void> | undefined;
  /** Transactions committed, fsyncs done and operations committed, for benchmarks and tests. */
  readonly counters = { commits: 0, fsyncs: 0, operations: 0 };

  constructor(db: Database.Database, options: GroupCommitterOptions) {
    this.#db = db;
    this.#maxBatch = Math.max(1, options.maxBatch);
    this.#walPath = options.walPath;
    this.#syncFile = options.syncFile ?? fsyncFile;
    // Called inside the batch transaction, a better-sqlite3 transaction function uses a SAVEPOINT.
    this.#savepoint = db.transaction((op: () => unknown) => op());
  }

  /** Queues a synchronous write; resolves with its result once committed as durably as asked. */
  run<T>(op: () => T, durability: Durability): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, durability, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now; the fsync of `power_loss` writes follows asynchronously. */
  flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#commit(batch);
    }
  }

  /** Commits everything queued and waits until every `power_loss` write settled (used by `close`). */
  async drain(): Promise<void> {
    this.flush();
    while (this.#syncing !== undefined) await this.#syncing;
  }

  #commit(batch: readonly Pending[]): void {
    let outcomes: Outcome[];
    try {
      outcomes = this.#db.transaction(() => batch.map((item): Outcome => this.#attempt(item.op))).immediate();
      this.counters.commits++;
      this.counters.operations += batch.length;
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, I/O error, busy): nothing in the batch is stored.
      const failure = bufferUnavailableError(error);
      for (const item of batch) item.reject(failure);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok !== true) item.reject(outcome === undefined ? bufferUnavailableError() : outcome.error);
      else if (item.durability === 'power_loss' && this.#walPath !== undefined)
        this.#awaitingSync.push({ value: outcome.value, item });
      else item.resolve(outcome.value);
    });
    if (this.#awaitingSync.length > 0) this.#syncing ??= this.#syncLoop(this.#walPath as string);
  }

  /** One fsync at a time; each covers every commit made before it started. */
  async #syncLoop(walPath: string): Promise<void> {
    while (this.#awaitingSync.length > 0) {
      const covered = this.#awaitingSync;
      this.#awaitingSync = [];
      try {
        await this.#syncFile(walPath);
        this.counters.fsyncs++;
        for (const { value, item } of covered) item.resolve(value);
      } catch (error) {
        // Committed but not known to be on disk: the caller must not take it as stored (the sender
        // retries; a duplicate is possible, a loss is not).
        const failure = bufferUnavailableError(error);
        for (const { item } of covered) item.reject(failure);
      }
    }
    this.#syncing = undefined;
  }

  #attempt(op: () => unknown): Outcome {
    try {
      return { ok: true, value: this.#savepoint(op) };
    } catch (error) {
      return { ok: false, error: isWebhookConnectError(error) ? error : bufferUnavailableError(error) };
    }
  }
}

/**
 * Opened per flush rather than kept open: SQLite may delete and recreate the WAL file (when the last
 * connection of another process closes), and a kept descriptor would then flush a file nobody writes.
 * Open and close cost microseconds on the thread pool next to the flush itself.
 */
async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

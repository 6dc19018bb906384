/**
 * Group commit. Every write operation is queued; on the next `setImmediate` all queued operations run in
 * one `BEGIN IMMEDIATE` transaction, each inside its own savepoint (one failing operation rolls back only
 * itself), and every caller settles after the COMMIT that holds its write. With `synchronous=FULL` that
 * COMMIT is the fsync, so N concurrent appends cost one fsync instead of N. Writes that arrive while a
 * commit is running (better-sqlite3 blocks the thread during it) simply queue for the next batch.
 *
 * Each write says how durable it must be. `power_loss` writes (a new message, an admin change) commit with
 * `synchronous=FULL`: fsynced before they resolve. `crash` writes (lease, ack, nack, release) commit with
 * `synchronous=NORMAL`: in WAL mode the commit is in the operating system's cache when it resolves, so it
 * survives the process being killed; only a power loss or kernel crash can undo it, and then the message
 * is delivered again (at-least-once), never lost. The next FULL commit fsyncs the WAL up to itself, so it
 * covers the NORMAL commits before it. A batch holding any `power_loss` write commits FULL.
 */
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

export class GroupCommitter {
  readonly #db: Database.Database;
  readonly #maxBatch: number;
  readonly #savepoint: (op: () => unknown) => unknown;
  #queue: Pending[] = [];
  #scheduled = false;
  /** The connection's current `synchronous` level (the store opens with FULL). */
  #synchronous: 'FULL' | 'NORMAL' = 'FULL';
  /** Transactions committed (and of those, fsynced) and operations they held, for benchmarks and tests. */
  readonly counters = { commits: 0, fsyncedCommits: 0, operations: 0 };

  constructor(db: Database.Database, maxBatch: number) {
    this.#db = db;
    this.#maxBatch = Math.max(1, maxBatch);
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

  /** Commits everything queued now (also used by `close`). */
  flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#commit(batch);
    }
  }

  #commit(batch: readonly Pending[]): void {
    let outcomes: Outcome[];
    try {
      const synchronous = batch.some((item) => item.durability === 'power_loss') ? 'FULL' : 'NORMAL';
      if (synchronous !== this.#synchronous) {
        this.#db.pragma(`synchronous = ${synchronous}`);
        this.#synchronous = synchronous;
      }
      outcomes = this.#db.transaction(() => batch.map((item): Outcome => this.#attempt(item.op))).immediate();
      this.counters.commits++;
      if (synchronous === 'FULL') this.counters.fsyncedCommits++;
      this.counters.operations += batch.length;
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, I/O error, busy): nothing in the batch is durable.
      const failure = bufferUnavailableError(error);
      for (const item of batch) item.reject(failure);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok === true) item.resolve(outcome.value);
      else item.reject(outcome === undefined ? bufferUnavailableError() : outcome.error);
    });
  }

  #attempt(op: () => unknown): Outcome {
    try {
      return { ok: true, value: this.#savepoint(op) };
    } catch (error) {
      return { ok: false, error: isWebhookConnectError(error) ? error : bufferUnavailableError(error) };
    }
  }
}

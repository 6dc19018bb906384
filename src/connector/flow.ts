/**
 * Flow control: a bounded work pool (at most `max_concurrent_requests` deliveries run; the rest wait in
 * arrival order and are never dropped) and a time- and size-bounded window of message ids used for
 * deduplication.
 */

/** A FIFO of jobs of which at most `limit` run at once. */
export class WorkPool {
  readonly #limit: number;
  readonly #waiting: (() => Promise<void>)[] = [];
  #running = 0;
  #capacityWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Queues a job; it starts as soon as a slot is free. The job must not throw. */
  push(job: () => Promise<void>): void {
    this.#waiting.push(job);
    this.#pump();
  }

  /** Removes and returns the jobs that have not started (for shutdown). */
  takeWaiting(): (() => Promise<void>)[] {
    return this.#waiting.splice(0);
  }

  /** Free slots right now (0 when full or when jobs wait). */
  free(): number {
    return Math.max(0, this.#limit - this.#running - this.#waiting.length);
  }

  /** Resolves with the free slots once there is at least one; rejects when `signal` aborts. */
  waitForCapacity(signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const free = this.free();
        if (free > 0) {
          signal.removeEventListener('abort', check);
          resolve(free);
        } else this.#capacityWaiters.push(check);
      };
      signal.addEventListener('abort', check, { once: true });
      check();
    });
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#limit && this.#waiting.length > 0) {
      const job = this.#waiting.shift()!;
      this.#running += 1;
      void job().finally(() => {
        this.#running -= 1;
        this.#pump();
        this.#notify();
      });
    }
  }

  #notify(): void {
    const waiters = this.#capacityWaiters.splice(0);
    for (const waiter of waiters) waiter();
    if (this.#running === 0 && this.#waiting.length === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }
}

/**
 * A map of at most `size` entries that forgets an entry `ttlMs` after it was set (oldest first when
 * full). `size` 0 disables it.
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; at: number }>();
  readonly #size: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(size: number, ttlMs: number, now: () => number = Date.now) {
    this.#size = size;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.at > this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.#size === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: this.#now() });
    while (this.#entries.size > this.#size) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}

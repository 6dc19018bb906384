/**
 * The background task pool: module deliveries that the sender does not wait for. At most
 * `maxConcurrent` run at once; each is aborted after `timeoutMs`. When every slot is taken, `run` waits
 * for one (back-pressure on the sender) up to `slotWaitMs`, then refuses with WC_OVERLOADED so the sender
 * retries later — a webhook is never accepted and then dropped for lack of room.
 *
 * Lifecycle: open → draining (`drain()`: no new tasks, running ones finish until the deadline) → closed
 * (remaining tasks aborted).
 */
import { DeadlineSignals } from '../shared/deadline-signals.js';
import { WebhookConnectError } from '../shared/errors.js';

export interface TaskPoolOptions {
  /** Maximum concurrent tasks (`MAX_CONCURRENT_TASKS`, default 100). */
  readonly maxConcurrent: number;
  /** Per-task timeout in ms (`TASK_TIMEOUT`, default 300 s). */
  readonly timeoutMs: number;
  /** How long a request waits for a free slot before 503 (`TASK_SLOT_WAIT_SECONDS`, default 10 s). */
  readonly slotWaitMs: number;
  /** Called with a task's failure (tasks report their own outcome; this is for unexpected throws). */
  readonly onError: (error: unknown) => void;
}

export interface TaskPoolStats {
  readonly maxConcurrent: number;
  readonly active: number;
  readonly waiting: number;
  readonly started: number;
  readonly completed: number;
  readonly timedOut: number;
  readonly refused: number;
}

export class TaskPool {
  readonly #options: TaskPoolOptions;
  /** Per-task timeouts (shared per 50 ms slot) and the shutdown abort. */
  readonly #deadlines: DeadlineSignals;
  #aborted = false;
  readonly #waiters: (() => void)[] = [];
  readonly #running = new Set<Promise<void>>();
  #draining = false;
  #started = 0;
  #completed = 0;
  #timedOut = 0;
  #refused = 0;

  constructor(options: TaskPoolOptions) {
    this.#options = options;
    this.#deadlines = new DeadlineSignals(options.timeoutMs);
  }

  get stats(): TaskPoolStats {
    return {
      maxConcurrent: this.#options.maxConcurrent,
      active: this.#running.size,
      waiting: this.#waiters.length,
      started: this.#started,
      completed: this.#completed,
      timedOut: this.#timedOut,
      refused: this.#refused,
    };
  }

  /**
   * Starts `task` once a slot is free and resolves as soon as it started, with `done` settling when it
   * finished (`done` never rejects: errors go to `onError`). Rejects with WC_OVERLOADED /
   * WC_SHUTTING_DOWN when the task cannot be started.
   */
  async start(task: (signal: AbortSignal) => Promise<void>): Promise<{ done: Promise<void> }> {
    if (this.#draining) throw new WebhookConnectError('WC_SHUTTING_DOWN', { retryAfterSeconds: 5 });
    if (this.#running.size >= this.#options.maxConcurrent) await this.#waitForSlot();
    this.#started++;
    const signal = this.#deadlines.signal();
    const running: Promise<void> = task(signal)
      .catch((error: unknown) => {
        if (signal.aborted && !this.#aborted) this.#timedOut++;
        this.#options.onError(error);
      })
      .finally(() => {
        this.#completed++;
        this.#running.delete(running);
        this.#waiters.shift()?.();
      });
    this.#running.add(running);
    // Wrapped: an async function returning a bare promise would only resolve when the task finished.
    return { done: running };
  }

  #waitForSlot(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(wake);
        if (index !== -1) this.#waiters.splice(index, 1);
        this.#refused++;
        reject(new WebhookConnectError('WC_OVERLOADED', { retryAfterSeconds: 5 }));
      }, this.#options.slotWaitMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(wake);
    });
  }

  /** Stops taking tasks, waits for running ones up to `deadlineMs`, then aborts the rest. */
  async drain(deadlineMs: number): Promise<void> {
    this.#draining = true;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([Promise.allSettled([...this.#running]), deadline]);
    this.#aborted = true;
    this.#deadlines.abortAll(new WebhookConnectError('WC_SHUTTING_DOWN'));
    await Promise.allSettled([...this.#running]);
  }
}

/**
 * Abort signals meaning "at most `timeoutMs` from now", shared by everything started within one slot of
 * `slotMs`: one AbortController and one timer per slot instead of a timer and a timeout signal (and a
 * combined signal) per request. A deadline fires at most `slotMs` late, never early. `abortAll` aborts
 * every live signal and every later one (shutdown).
 */
import { setMaxListeners } from 'node:events';

/** Default slot: deadlines are grouped per 50 ms. */
export const DEFAULT_DEADLINE_SLOT_MS = 50;

export class DeadlineSignals {
  readonly #timeoutMs: number;
  readonly #slotMs: number;
  readonly #live = new Map<number, AbortController>();
  #abortReason: { readonly reason: unknown } | undefined;

  constructor(timeoutMs: number, slotMs = DEFAULT_DEADLINE_SLOT_MS) {
    this.#timeoutMs = Math.max(0, timeoutMs);
    this.#slotMs = Math.max(1, slotMs);
  }

  /** A signal that aborts with a `TimeoutError` once `timeoutMs` (plus at most one slot) has passed. */
  signal(): AbortSignal {
    if (this.#abortReason !== undefined) return AbortSignal.abort(this.#abortReason.reason);
    const now = Date.now();
    const slot = Math.floor(now / this.#slotMs);
    let controller = this.#live.get(slot);
    if (controller === undefined) {
      const created = new AbortController();
      controller = created;
      // Every request of the slot may listen: no leak warning at 11 listeners.
      setMaxListeners(0, created.signal);
      this.#live.set(slot, created);
      const firesIn = (slot + 1) * this.#slotMs + this.#timeoutMs - now;
      setTimeout(() => {
        this.#live.delete(slot);
        created.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      }, firesIn).unref();
    }
    return controller.signal;
  }

  /** Aborts every live signal with `reason`; later `signal()` calls return signals already aborted. */
  abortAll(reason: unknown): void {
    this.#abortReason = { reason };
    for (const controller of this.#live.values()) controller.abort(reason);
    this.#live.clear();
  }
}

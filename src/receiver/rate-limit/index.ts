/**
 * In-memory rate limiting (reference spec §8.1) with a **sliding-window counter**.
 *
 * Choice: the reference keeps a sliding *log* (every timestamp in the window) per key, so memory grows
 * with `max_requests` × keys. We keep three numbers per key — the start of the key's current window, the
 * count in it and the count in the previous window — and estimate the count over the last `window` as
 * `previous × (unelapsed fraction of the current window) + current`. A request is allowed while that
 * estimate is below `maxRequests`. This is O(1) memory and time per key. It is exact for the first window
 * of a key (a burst of `maxRequests` passes, the next is refused); later it assumes the previous window's
 * requests were spread evenly, so when they were bunched at its end it can admit more than `maxRequests`
 * in a true sliding window (never more than twice), and when bunched at its start it is stricter.
 * Windows are anchored at a key's first request, not at the epoch, so "wait one window after a burst" works.
 *
 * Keys are bounded: beyond `maxKeys` the least recently active key is evicted (which resets its limit).
 * Use separate limiters for per-webhook keys and per-client-IP keys so a flood of client addresses cannot
 * evict the per-webhook state. Idle keys (nothing in the last two windows) are swept by an unref'd timer;
 * `close()` stops it. Process-local: replicas do not share counts.
 */
import { WebhookConnectError } from '../../shared/errors.js';

/** The outcome of one {@link SlidingWindowRateLimiter.check}. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Whole seconds (≥ 1) after which a retry will be allowed, given no other traffic; 0 when allowed. */
  readonly retryAfterSeconds: number;
  /** Requests still allowed in the current window after this one (0 when refused). */
  readonly remaining: number;
}

/** Options of {@link SlidingWindowRateLimiter}. */
export interface RateLimiterOptions {
  /** Most keys tracked; the least recently active is evicted beyond it. Default 10000. */
  readonly maxKeys?: number;
  /** How often idle keys are swept, in ms; 0 disables the timer. Default 60000. */
  readonly cleanupIntervalMs?: number;
  /** Clock in epoch milliseconds, used when `check`/`sweep` get no `nowMs`. Default `Date.now`. */
  readonly clock?: () => number;
}

/** Defaults of {@link RateLimiterOptions}. */
export const DEFAULT_RATE_LIMITER_OPTIONS = Object.freeze({ maxKeys: 10_000, cleanupIntervalMs: 60_000 });

interface KeyState {
  /** Start of the key's current window (ms). */
  start: number;
  windowMs: number;
  previous: number;
  current: number;
}

const ALWAYS_DENY_REMAINING = 0;

function retryAfter(waitMs: number): number {
  // Strictly after the instant the estimate drops below the limit; the epsilon absorbs float error.
  return Math.max(1, Math.floor(waitMs / 1000 + 1e-6) + 1);
}

export class SlidingWindowRateLimiter {
  readonly #keys = new Map<string, KeyState>();
  readonly #maxKeys: number;
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RateLimiterOptions = {}) {
    this.#maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_RATE_LIMITER_OPTIONS.maxKeys);
    this.#clock = options.clock ?? Date.now;
    const interval = options.cleanupIntervalMs ?? DEFAULT_RATE_LIMITER_OPTIONS.cleanupIntervalMs;
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval);
      this.#timer.unref();
    }
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * Counts one request for `key` if it is within `maxRequests` per `windowSeconds`. `maxRequests` 0
   * always refuses. Changing `windowSeconds` for a key restarts its counting.
   * @throws RangeError when `windowSeconds` is not a positive finite number or `maxRequests` is negative.
   */
  check(
    key: string,
    maxRequests: number,
    windowSeconds: number,
    nowMs: number = this.#clock(),
  ): RateLimitDecision {
    if (!(windowSeconds > 0 && windowSeconds !== Infinity) || !(maxRequests >= 0)) {
      throw new RangeError(`invalid rate limit: ${maxRequests} per ${windowSeconds} s`);
    }
    const windowMs = windowSeconds * 1000;
    if (maxRequests === 0) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(windowSeconds)), remaining: 0 };
    }
    let state = this.#keys.get(key);
    if (state === undefined || state.windowMs !== windowMs) {
      if (state === undefined && this.#keys.size >= this.#maxKeys) this.#evictOldest();
      state = { start: nowMs, windowMs, previous: 0, current: 0 };
      this.#keys.delete(key);
      this.#keys.set(key, state);
    } else if (nowMs - state.start >= windowMs) {
      const windows = Math.floor((nowMs - state.start) / windowMs);
      state.previous = windows === 1 ? state.current : 0;
      state.current = 0;
      state.start += windows * windowMs;
      // Move the key to the end of the map: eviction order approximates least-recently-active.
      this.#keys.delete(key);
      this.#keys.set(key, state);
    }
    const unelapsed = Math.min(windowMs, Math.max(0, windowMs - (nowMs - state.start)));
    // estimate < max, multiplied through by windowMs to keep the comparison exact for integer inputs
    if (state.previous * unelapsed + state.current * windowMs < maxRequests * windowMs) {
      state.current++;
      const estimate = (state.previous * unelapsed) / windowMs + state.current;
      return {
        allowed: true,
        retryAfterSeconds: 0,
        remaining: Math.max(0, Math.floor(maxRequests - estimate)),
      };
    }
    let allowedAt: number;
    if (state.current < maxRequests) {
      // Still in this window, once the previous window's weight has decayed enough.
      allowedAt =
        state.start - nowMs + windowMs - ((maxRequests - state.current) * windowMs) / state.previous;
    } else {
      // In the next window, where this window's count becomes the decaying "previous".
      allowedAt = state.start - nowMs + 2 * windowMs - (maxRequests * windowMs) / state.current;
    }
    return { allowed: false, retryAfterSeconds: retryAfter(allowedAt), remaining: ALWAYS_DENY_REMAINING };
  }

  /** Forgets keys with no requests in their last two windows. Returns how many were removed. */
  sweep(nowMs: number = this.#clock()): number {
    let removed = 0;
    for (const [key, state] of this.#keys) {
      if (nowMs - state.start >= 2 * state.windowMs) {
        this.#keys.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets every key. */
  reset(): void {
    this.#keys.clear();
  }

  /** Stops the sweep timer and forgets every key. Idempotent. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#keys.clear();
  }

  #evictOldest(): void {
    const oldest = this.#keys.keys().next();
    if (oldest.done !== true) this.#keys.delete(oldest.value);
  }
}

/**
 * The error a refused {@link RateLimitDecision} becomes: `WC_RATE_LIMITED` (429) with `Retry-After`.
 * `detail` defaults to the reference's "Rate limit exceeded. Retry after N seconds"; the `/` and `/stats`
 * endpoints pass "Rate limit exceeded. Limit: N requests per minute".
 */
export function rateLimitedError(decision: RateLimitDecision, detail?: string): WebhookConnectError {
  const seconds = Math.max(1, decision.retryAfterSeconds);
  return new WebhookConnectError('WC_RATE_LIMITED', {
    detail: detail ?? `Rate limit exceeded. Retry after ${seconds} seconds`,
    retryAfterSeconds: seconds,
  });
}

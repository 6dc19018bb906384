/**
 * Exponential backoff with an upper bound and optional full jitter, and an abortable sleep.
 */

export interface BackoffOptions {
  /** Delay before the second attempt, in ms. */
  readonly initialMs: number;
  /** Upper bound of any delay, in ms. */
  readonly maxMs: number;
  /** Growth factor per attempt. Default 2. */
  readonly multiplier?: number;
  /** Full jitter: a uniformly random delay in [0, computed]. Default false. */
  readonly jitter?: boolean;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Delay before retry number `attempt + 1`, where `attempt` is the 0-based index of the attempt that just
 * failed: `min(initialMs × multiplier^attempt, maxMs)` (overflow or NaN → `maxMs`), jittered if asked.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const multiplier = options.multiplier ?? 2;
  const maxMs = Math.max(0, options.maxMs);
  let delay = Math.max(0, options.initialMs) * multiplier ** Math.max(0, attempt);
  if (!Number.isFinite(delay) || Number.isNaN(delay)) delay = maxMs;
  delay = Math.min(delay, maxMs);
  if (options.jitter === true) delay = Math.floor((options.random ?? Math.random)() * delay);
  return Math.round(delay);
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

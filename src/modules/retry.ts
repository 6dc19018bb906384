/**
 * The retry handler for webhook-level and chain-item `retry` (reference §8.2, fixing §10.3 item 30).
 * Failures are classified by cause (`classifyDeliveryError`: network, timeout, 5xx, 408, 425, 429 are
 * transient), not by type name. `non_retryable_errors` is checked first, then `retryable_errors`; both
 * match exactly against the `name` or `code` of the error or of any error in its `cause` chain.
 *
 * Delay before attempt i+1 (i = 0-based index of the failed attempt) is
 * `min(initial_delay × backoff_multiplier^i, max_delay)` seconds. An abort of `signal` (shutdown, chain
 * cancellation, timeout) stops at once; an attempt interrupted by the abort does not count.
 */
import { backoffDelayMs, sleep } from '../shared/backoff.js';
import {
  classifyDeliveryError,
  PermanentDeliveryError,
  TransientDeliveryError,
  type DeliveryError,
} from '../shared/delivery-errors.js';
import type { RetryConfig } from './schemas.js';

/** The outcome of `runWithRetry`. `attempts` counts attempts that ran to completion. */
export type RetryOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | {
      readonly ok: false;
      /** The last failure, classified. Its `cause` is the original error. */
      readonly error: DeliveryError;
      readonly attempts: number;
      /** True when `signal` aborted the run (the interrupted attempt is not counted). */
      readonly aborted: boolean;
    };

export interface RetryRunOptions {
  /** Waits between attempts; injectable for tests. Default: the abortable `sleep`. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const MAX_CAUSE_DEPTH = 8;

function errorIdentifiers(error: unknown): Set<string> {
  const found = new Set<string>();
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    found.add(current.name);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') found.add(String(code));
    current = current.cause;
  }
  return found;
}

/** Whether `error` should be retried under `retry` (lists first, then classification). */
export function isRetryable(
  error: unknown,
  retry: Pick<RetryConfig, 'retryable_errors' | 'non_retryable_errors'>,
) {
  const ids = errorIdentifiers(error);
  if (retry.non_retryable_errors?.some((name) => ids.has(name)) === true) return false;
  if (retry.retryable_errors?.some((name) => ids.has(name)) === true) return true;
  return classifyDeliveryError(error).retryable;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, runs out of attempts, or `signal` aborts. With
 * `retry` undefined or `enabled: false` it runs exactly once. Never throws.
 */
export function runWithRetry<T>(
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  retry: RetryConfig | undefined,
  signal: AbortSignal,
  options: RetryRunOptions = {},
): Promise<RetryOutcome<T>> {
  const maxAttempts = retry?.enabled === true ? retry.max_attempts : 1;
  if (maxAttempts === 1 && !signal.aborted) return runOnce(attempt, retry, signal);
  return runAttempts(attempt, retry, signal, maxAttempts, options.sleep ?? sleep);
}

/**
 * The single attempt of a run without retries (the common case): the same outcomes as the loop in
 * {@link runAttempts}, with one promise reaction instead of an async function around the attempt.
 */
function runOnce<T>(
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  retry: RetryConfig | undefined,
  signal: AbortSignal,
): Promise<RetryOutcome<T>> {
  const failed = (error: unknown): RetryOutcome<T> => {
    if (signal.aborted) return abortedOutcome(signal, 0, error);
    const classified = classifyDeliveryError(error);
    const retryable = retry === undefined ? classified.retryable : isRetryable(error, retry);
    return { ok: false, error: retryableAs(classified, retryable, error), attempts: 1, aborted: false };
  };
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(attempt(signal, 1));
  } catch (error) {
    return Promise.resolve(failed(error));
  }
  return pending.then((value): RetryOutcome<T> => ({ ok: true, value, attempts: 1 }), failed);
}

async function runAttempts<T>(
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  retry: RetryConfig | undefined,
  signal: AbortSignal,
  maxAttempts: number,
  wait: (ms: number, signal: AbortSignal) => Promise<void>,
): Promise<RetryOutcome<T>> {
  let attempts = 0;
  for (;;) {
    if (signal.aborted) return abortedOutcome(signal, attempts);
    try {
      const value = await attempt(signal, attempts + 1);
      return { ok: true, value, attempts: attempts + 1 };
    } catch (error) {
      if (signal.aborted) return abortedOutcome(signal, attempts, error);
      attempts++;
      const classified = classifyDeliveryError(error);
      const retryable = retry === undefined ? classified.retryable : isRetryable(error, retry);
      if (!retryable || attempts >= maxAttempts) {
        return { ok: false, error: retryableAs(classified, retryable, error), attempts, aborted: false };
      }
      const delayMs = backoffDelayMs(attempts - 1, {
        initialMs: (retry?.initial_delay ?? 0) * 1000,
        maxMs: (retry?.max_delay ?? 0) * 1000,
        multiplier: retry?.backoff_multiplier ?? 2,
      });
      try {
        await wait(delayMs, signal);
      } catch {
        return abortedOutcome(signal, attempts, error);
      }
    }
  }
}

/** Keeps the classification consistent with the lists: a listed name overrides the default class. */
function retryableAs(classified: DeliveryError, retryable: boolean, original: unknown): DeliveryError {
  if (classified.retryable === retryable) return classified;
  return retryable
    ? new TransientDeliveryError(classified.message, { cause: original })
    : new PermanentDeliveryError(classified.message, { cause: original });
}

function abortedOutcome<T>(signal: AbortSignal, attempts: number, error?: unknown): RetryOutcome<T> {
  const reason: unknown = signal.reason ?? error;
  return { ok: false, error: classifyDeliveryError(reason), attempts, aborted: true };
}

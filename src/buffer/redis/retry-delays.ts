import { retryDelayMs } from '../lifecycle.js';
import type { ChannelSettings } from '../types.js';

/** Longest table, for pathological settings (tiny initial, huge max); typical tables have ~10 entries. */
const MAX_ENTRIES = 1100;

/**
 * The channel's retry delays in ms for delivery_count 1, 2, … as lifecycle.ts computes them, up to the
 * first capped value (the scripts repeat the last entry) or the last count that can still be retried.
 */
export function retryDelayTable(settings: ChannelSettings): number[] {
  const maxMs = settings.retry_backoff.max * 1000;
  const lastRetryable = Math.max(1, Math.min(settings.max_delivery_attempts - 1, MAX_ENTRIES));
  const table: number[] = [];
  for (let n = 1; n <= lastRetryable; n++) {
    const delay = retryDelayMs(settings, n);
    table.push(delay);
    if (delay >= maxMs || settings.retry_backoff.initial === 0) break;
  }
  return table;
}

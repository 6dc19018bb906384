import type { Redis } from 'ioredis';
import type { ChannelSettings } from '../../types.js';
import type { ChannelKeys } from '../keys.js';
import type { ScriptArg } from '../scripts/index.js';

/** What every operation gets: the client, the channel's keys and settings, and the clock reading. */
export interface OpContext {
  readonly client: Redis;
  readonly channel: string;
  readonly keys: ChannelKeys;
  readonly settings: ChannelSettings;
  /** Retry delays in ms for delivery_count 1..n (the last repeats); see scripts/lib.ts. */
  readonly retryDelays: readonly number[];
  readonly now: number;
}

/** The ARGV block every lifecycle script starts with (scripts/lib.ts). */
export function lifecycleArgs(ctx: OpContext): ScriptArg[] {
  return [ctx.now, ctx.settings.max_delivery_attempts, ctx.retryDelays.length, ...ctx.retryDelays];
}

/** Whole milliseconds: PEL delivery times have no fractions. */
export function wholeMs(ms: number): number {
  return Math.max(0, Math.round(ms));
}

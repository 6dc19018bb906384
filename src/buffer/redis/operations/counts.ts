import type { ChannelStats } from '../../types.js';
import { STATS, runScript } from '../scripts/index.js';
import type { OpContext } from './context.js';

/** Live (available + leased) messages of a channel (the stream's length) or one of its webhooks. */
export async function depth(ctx: OpContext, webhookId?: string): Promise<number> {
  if (webhookId === undefined) return ctx.client.xlen(ctx.keys.stream);
  return Number((await ctx.client.hget(ctx.keys.webhookDepths, webhookId)) ?? 0);
}

export async function webhookDepths(ctx: OpContext): Promise<Record<string, number>> {
  const depths: Record<string, number> = {};
  for (const [webhookId, n] of Object.entries(await ctx.client.hgetall(ctx.keys.webhookDepths))) {
    if (Number(n) > 0) depths[webhookId] = Number(n);
  }
  return depths;
}

/** One read-only script, so the counts are a consistent snapshot. */
export async function stats(ctx: OpContext): Promise<ChannelStats> {
  const { keys } = ctx;
  const [available = 0, leased = 0, dead = 0, expired = 0, acked = 0] = (await runScript(
    ctx.client,
    STATS,
    [keys.stream, keys.deadLetters, keys.meta],
    [],
  )) as number[];
  return { available, leased, dead, expired_total: expired, acked_total: acked };
}

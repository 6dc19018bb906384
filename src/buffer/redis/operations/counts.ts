import type { ChannelStats } from '../../types.js';
import type { OpContext } from './context.js';

/** Live (available + leased) messages of a channel or one of its webhooks. */
export async function depth(ctx: OpContext, webhookId?: string): Promise<number> {
  if (webhookId === undefined) return ctx.client.zcard(ctx.keys.live);
  return Number((await ctx.client.hget(ctx.keys.depths, webhookId)) ?? 0);
}

export async function webhookDepths(ctx: OpContext): Promise<Record<string, number>> {
  const depths: Record<string, number> = {};
  for (const [webhookId, n] of Object.entries(await ctx.client.hgetall(ctx.keys.depths))) {
    if (Number(n) > 0) depths[webhookId] = Number(n);
  }
  return depths;
}

/** One MULTI, so the counts are a consistent snapshot. */
export async function stats(ctx: OpContext): Promise<ChannelStats> {
  const { keys } = ctx;
  const replies = await ctx.client
    .multi()
    .zcard(keys.ready)
    .zcard(keys.delayed)
    .zcard(keys.leased)
    .zcard(keys.dead)
    .hmget(keys.meta, 'expired_total', 'acked_total')
    .exec();
  if (replies === null) throw new Error('redis buffer: stats transaction aborted');
  const value = (i: number): unknown => {
    const [error, result] = replies[i] ?? [new Error('missing reply'), null];
    if (error !== null) throw error;
    return result;
  };
  const [expired, acked] = value(4) as (string | null)[];
  return {
    available: Number(value(0)) + Number(value(1)),
    leased: Number(value(2)),
    dead: Number(value(3)),
    expired_total: Number(expired ?? 0),
    acked_total: Number(acked ?? 0),
  };
}

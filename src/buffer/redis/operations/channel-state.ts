import type { OpContext } from './context.js';

export async function getChannelState(ctx: OpContext): Promise<unknown> {
  const json = await ctx.client.get(ctx.keys.state);
  return json === null ? null : (JSON.parse(json) as unknown);
}

export async function setChannelState(ctx: OpContext, state: unknown): Promise<void> {
  await ctx.client.set(ctx.keys.state, JSON.stringify(state ?? null));
}

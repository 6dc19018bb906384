import type { ChannelStats } from '../../types.js';
import type { Statements } from '../statements.js';

/** Live (available + leased) messages of a channel or one of its webhooks, from the trigger-kept counts. */
export function depth(st: Statements, channel: string, webhookId?: string): number {
  return webhookId === undefined
    ? st.liveCountOfChannel.get(channel)!
    : st.liveCountOfWebhook.get(channel, webhookId)!;
}

export function webhookDepths(st: Statements, channel: string): Record<string, number> {
  const depths: Record<string, number> = {};
  for (const { webhook_id, n } of st.liveCountsByWebhook.all(channel)) depths[webhook_id] = n;
  return depths;
}

export function stats(st: Statements, channel: string): ChannelStats {
  const counts = { available: 0, leased: 0, dead: 0 };
  for (const { state, n } of st.countsByState.all(channel)) {
    if (state === 'available' || state === 'leased' || state === 'dead') counts[state] = n;
  }
  const totals = st.totals.get(channel);
  return { ...counts, expired_total: totals?.expired_total ?? 0, acked_total: totals?.acked_total ?? 0 };
}

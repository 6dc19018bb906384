import type { SettleResult } from '../../types.js';
import type { OpContext } from './context.js';
import { ownership } from './ownership.js';

/** Deletes the leased messages `consumerId` owns and counts them as acked. */
export function ack(ctx: OpContext, consumerId: string, ids: readonly string[]): SettleResult[] {
  let acked = 0;
  const results = ids.map((id): SettleResult => {
    const row = ctx.st.owner.get(ctx.channel, id);
    const outcome = ownership(row, consumerId);
    if (outcome === 'ok' && row !== undefined) {
      ctx.st.deleteBySeq.run(row.seq);
      acked++;
    }
    return { id, outcome };
  });
  if (acked > 0) ctx.st.addTotals.run(ctx.channel, acked, 0);
  return results;
}

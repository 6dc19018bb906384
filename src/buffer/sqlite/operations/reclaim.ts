import type { ReclaimResult } from '../../types.js';
import type { OpContext } from './context.js';
import { failDelivery } from './fail-delivery.js';

/** Expired leases back to the queue (or dead); available messages past their TTL dead as `expired`. */
export function reclaim(ctx: OpContext): ReclaimResult {
  let released = 0;
  let deadLettered = 0;
  for (const row of ctx.st.expiredLeases.all(ctx.channel, ctx.now)) {
    if (failDelivery(ctx, row, undefined, null) === 'dead') deadLettered++;
    else released++;
  }
  const expired = ctx.st.expireAvailable.run(ctx.now, ctx.channel, ctx.now).changes;
  if (expired > 0) ctx.st.addTotals.run(ctx.channel, 0, expired);
  return { released, deadLettered, expired };
}

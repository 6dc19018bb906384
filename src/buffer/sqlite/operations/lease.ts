import { leaseLengthMs } from '../../lifecycle.js';
import type { StoredMessage } from '../../types.js';
import type { MessageRow } from '../rows.js';
import { toStored } from '../rows.js';
import type { OpContext } from './context.js';
import { reclaim } from './reclaim.js';

/**
 * Reclaims, then leases up to `max` due messages oldest first. Ordered channels lease only the head of
 * the queue, and only when it is available and due.
 */
export function lease(ctx: OpContext, consumerId: string, max: number, leaseMs?: number): StoredMessage[] {
  const { st, settings } = ctx;
  reclaim(ctx);
  if (max <= 0) return [];
  let rows: MessageRow[];
  if (settings.ordered) {
    const head = st.head.get(ctx.channel);
    rows = head !== undefined && head.state === 'available' && head.available_at <= ctx.now ? [head] : [];
  } else {
    rows = st.leasable.all(ctx.channel, ctx.now, Math.floor(max));
  }
  const deadline = ctx.now + leaseLengthMs(settings, leaseMs);
  return rows.map((row) => {
    st.markLeased.run(consumerId, deadline, row.seq);
    return toStored({ ...row, delivery_count: row.delivery_count + 1 });
  });
}

import type { NackResult, ReleaseOptions } from '../../types.js';
import type { OpContext } from './context.js';
import { failDelivery } from './fail-delivery.js';
import { ownership } from './ownership.js';

/** A consumer's leases back to the queue; without `countAttempt` at once and with the count undone. */
export function release(ctx: OpContext, consumerId: string, options: ReleaseOptions): NackResult[] {
  const { st } = ctx;
  const ids = options.ids ?? st.ownedBy.all(ctx.channel, consumerId).map((row) => row.id);
  return ids.map((id): NackResult => {
    const row = st.owner.get(ctx.channel, id);
    const outcome = ownership(row, consumerId);
    if (outcome !== 'ok' || row === undefined) return { id, outcome };
    if (options.countAttempt === false) {
      st.makeAvailable.run(ctx.now, null, Math.max(0, row.delivery_count - 1), row.seq);
      return { id, outcome, state: 'available' };
    }
    return { id, outcome, state: failDelivery(ctx, row, undefined, null) };
  });
}

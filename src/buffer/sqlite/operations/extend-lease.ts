import { leaseLengthMs } from '../../lifecycle.js';
import type { SettleResult } from '../../types.js';
import type { OpContext } from './context.js';
import { ownership } from './ownership.js';

/** Moves the deadline of the leases `consumerId` owns to now + `leaseMs`. */
export function extendLease(
  ctx: OpContext,
  consumerId: string,
  ids: readonly string[],
  leaseMs: number,
): SettleResult[] {
  const deadline = ctx.now + leaseLengthMs(ctx.settings, leaseMs);
  return ids.map((id) => {
    const row = ctx.st.owner.get(ctx.channel, id);
    const outcome = ownership(row, consumerId);
    if (outcome === 'ok' && row !== undefined) ctx.st.extend.run(deadline, row.seq);
    return { id, outcome };
  });
}

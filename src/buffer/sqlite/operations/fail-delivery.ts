import { afterFailedDelivery } from '../../lifecycle.js';
import type { OwnerRow } from '../rows.js';
import type { OpContext } from './context.js';

/** A leased row whose delivery failed: available after backoff, or dead when its attempts are used. */
export function failDelivery(
  ctx: OpContext,
  row: OwnerRow,
  delaySeconds: number | undefined,
  error: string | null,
): 'available' | 'dead' {
  const next = afterFailedDelivery(ctx.settings, row.delivery_count, ctx.now, delaySeconds);
  if (next.state === 'dead') {
    ctx.st.makeDead.run(next.reason, error, ctx.now, row.seq);
    return 'dead';
  }
  ctx.st.makeAvailable.run(next.availableAt, error, row.delivery_count, row.seq);
  return 'available';
}

import { leaseLengthMs } from '../../lifecycle.js';
import type { StoredMessage } from '../../types.js';
import { decodeLeased } from '../codec.js';
import { lifecycleKeys } from '../keys.js';
import { LEASE, runScriptBuffer } from '../scripts/index.js';
import { pelConsumer } from '../scripts/lib.js';
import { lifecycleArgs, wholeMs, type OpContext } from './context.js';

/** Reclaims, then leases up to `max` due messages oldest first, in one script. */
export async function lease(
  ctx: OpContext,
  consumerId: string,
  max: number,
  leaseMs?: number,
): Promise<StoredMessage[]> {
  const count = Number.isFinite(max) ? Math.max(0, Math.floor(max)) : 0;
  const rows = await runScriptBuffer(ctx.client, LEASE, lifecycleKeys(ctx.keys), [
    ...lifecycleArgs(ctx),
    pelConsumer(consumerId),
    count,
    wholeMs(leaseLengthMs(ctx.settings, leaseMs)),
    ctx.settings.ordered ? 1 : 0,
  ]);
  return (rows as unknown[]).map((row) => decodeLeased(ctx.channel, row));
}

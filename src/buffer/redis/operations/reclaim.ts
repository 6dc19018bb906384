import type { ReclaimResult } from '../../types.js';
import { lifecycleKeys } from '../keys.js';
import { RECLAIM, runScript } from '../scripts/index.js';
import { lifecycleArgs, type OpContext } from './context.js';

/** Expired leases back to the queue (or dead); available messages past their TTL dead as `expired`. */
export async function reclaim(ctx: OpContext): Promise<ReclaimResult> {
  const [released = 0, deadLettered = 0, expired = 0] = (await runScript(
    ctx.client,
    RECLAIM,
    lifecycleKeys(ctx.keys),
    lifecycleArgs(ctx),
  )) as number[];
  return { released, deadLettered, expired };
}

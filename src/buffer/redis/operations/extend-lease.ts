import { leaseLengthMs } from '../../lifecycle.js';
import type { SettleOutcome, SettleResult } from '../../types.js';
import { EXTEND_LEASE, runScript } from '../scripts/index.js';
import { pelConsumer } from '../scripts/lib.js';
import { wholeMs, type OpContext } from './context.js';

/** Moves the deadline of the leases `consumerId` owns to now + `leaseMs`. */
export async function extendLease(
  ctx: OpContext,
  consumerId: string,
  ids: readonly string[],
  leaseMs: number,
): Promise<SettleResult[]> {
  if (ids.length === 0) return [];
  const deadline = ctx.now + wholeMs(leaseLengthMs(ctx.settings, leaseMs));
  const outcomes = (await runScript(
    ctx.client,
    EXTEND_LEASE,
    [ctx.keys.stream, ctx.keys.ids, ctx.keys.clock],
    [pelConsumer(consumerId), deadline, ...ids],
  )) as SettleOutcome[];
  return ids.map((id, i) => ({ id, outcome: outcomes[i] ?? 'not_found' }));
}

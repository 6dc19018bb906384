import type { NackResult, ReleaseOptions, SettleOutcome } from '../../types.js';
import { lifecycleKeys } from '../keys.js';
import { RELEASE, runScript } from '../scripts/index.js';
import { pelConsumer } from '../scripts/lib.js';
import { lifecycleArgs, type OpContext } from './context.js';

/** A consumer's leases back to the queue; without `countAttempt` at once and with the count undone. */
export async function release(
  ctx: OpContext,
  consumerId: string,
  options: ReleaseOptions,
): Promise<NackResult[]> {
  if (options.ids !== undefined && options.ids.length === 0) return [];
  const rows = (await runScript(ctx.client, RELEASE, lifecycleKeys(ctx.keys), [
    ...lifecycleArgs(ctx),
    pelConsumer(consumerId),
    options.countAttempt === false ? 0 : 1,
    ...(options.ids ?? []),
  ])) as [string, SettleOutcome, ('available' | 'dead')?][];
  return rows.map(([id, outcome, state]) => (state === undefined ? { id, outcome } : { id, outcome, state }));
}

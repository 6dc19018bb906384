import type { SettleOutcome, SettleResult } from '../../types.js';
import { ACK, runScript } from '../scripts/index.js';
import type { OpContext } from './context.js';

/** Deletes the leased messages `consumerId` owns and counts them as acked (one script for the batch). */
export async function ack(
  ctx: OpContext,
  consumerId: string,
  ids: readonly string[],
): Promise<SettleResult[]> {
  if (ids.length === 0) return [];
  const { keys } = ctx;
  const outcomes = (await runScript(
    ctx.client,
    ACK,
    [keys.leased, keys.live, keys.depths, keys.meta],
    [keys.messagePrefix, consumerId, ...ids],
  )) as SettleOutcome[];
  return ids.map((id, i) => ({ id, outcome: outcomes[i] ?? 'not_found' }));
}

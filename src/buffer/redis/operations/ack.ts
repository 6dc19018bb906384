import type { SettleOutcome, SettleResult } from '../../types.js';
import { ACK, runScript } from '../scripts/index.js';
import { pelConsumer } from '../scripts/lib.js';
import type { OpContext } from './context.js';

/** XACK + XDEL of the leases `consumerId` owns, counted as acked (one script for the batch). */
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
    [keys.stream, keys.ids, keys.webhookDepths, keys.meta, keys.errors],
    [pelConsumer(consumerId), ...ids],
  )) as SettleOutcome[];
  return ids.map((id, i) => ({ id, outcome: outcomes[i] ?? 'not_found' }));
}

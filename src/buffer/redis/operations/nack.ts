import { retryDelayMs } from '../../lifecycle.js';
import type { NackOptions, NackResult, SettleOutcome } from '../../types.js';
import { lifecycleKeys } from '../keys.js';
import { NACK, runScript } from '../scripts/index.js';
import { pelConsumer } from '../scripts/lib.js';
import { lifecycleArgs, wholeMs, type OpContext } from './context.js';

/** Retry after backoff (dead when attempts are used), or dead letter with the given reason. */
export async function nack(
  ctx: OpContext,
  consumerId: string,
  id: string,
  options: NackOptions,
): Promise<NackResult> {
  const delay =
    options.delaySeconds !== undefined && Number.isFinite(options.delaySeconds)
      ? wholeMs(retryDelayMs(ctx.settings, 0, options.delaySeconds))
      : '';
  const reply = (await runScript(ctx.client, NACK, lifecycleKeys(ctx.keys), [
    ...lifecycleArgs(ctx),
    pelConsumer(consumerId),
    id,
    options.retry ? 1 : 0,
    delay,
    options.reason === undefined ? 0 : 1,
    options.reason ?? '',
  ])) as [SettleOutcome, ('available' | 'dead')?];
  const [outcome, state] = reply;
  return state === undefined ? { id, outcome } : { id, outcome, state };
}

import { DEAD_LETTER_REASONS, type NackOptions, type NackResult } from '../../types.js';
import type { OpContext } from './context.js';
import { failDelivery } from './fail-delivery.js';
import { ownership } from './ownership.js';

/** Retry after backoff (dead when attempts are used), or dead letter with the given reason. */
export function nack(ctx: OpContext, consumerId: string, id: string, options: NackOptions): NackResult {
  const row = ctx.st.owner.get(ctx.channel, id);
  const outcome = ownership(row, consumerId);
  if (outcome !== 'ok' || row === undefined) return { id, outcome };
  if (!options.retry) {
    ctx.st.makeDead.run(
      options.reason ?? DEAD_LETTER_REASONS.rejected,
      options.reason ?? null,
      ctx.now,
      row.seq,
    );
    return { id, outcome, state: 'dead' };
  }
  return { id, outcome, state: failDelivery(ctx, row, options.delaySeconds, options.reason ?? null) };
}

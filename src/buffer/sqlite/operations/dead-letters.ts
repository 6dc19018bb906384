import { expiresAt } from '../../lifecycle.js';
import type { DeadLetter, ListOptions } from '../../types.js';
import type { Statements } from '../statements.js';
import { toDeadLetter } from '../rows.js';
import type { OpContext } from './context.js';

export function listDeadLetters(st: Statements, channel: string, options: ListOptions): DeadLetter[] {
  const limit = Math.max(0, Math.floor(options.limit ?? 100));
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  return st.deadLetters.all(channel, limit, offset).map(toDeadLetter);
}

/** Dead letters back to available now, with `delivery_count` 0 and a fresh TTL. */
export function replayDeadLetters(ctx: OpContext, ids: readonly string[] | undefined): number {
  const fresh = expiresAt(ctx.settings, ctx.now);
  const seqs = deadSeqs(ctx, ids);
  for (const seq of seqs) ctx.st.replay.run(ctx.now, fresh, seq);
  return seqs.length;
}

export function purgeDeadLetters(ctx: OpContext, ids: readonly string[] | undefined): number {
  const seqs = deadSeqs(ctx, ids);
  for (const seq of seqs) ctx.st.deleteBySeq.run(seq);
  return seqs.length;
}

function deadSeqs(ctx: OpContext, ids: readonly string[] | undefined): number[] {
  if (ids === undefined) return ctx.st.deadSeqs.all(ctx.channel);
  return ids.map((id) => ctx.st.deadSeqById.get(ctx.channel, id)).filter((seq) => seq !== undefined);
}

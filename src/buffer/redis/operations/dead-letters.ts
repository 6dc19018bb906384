import { expiresAt } from '../../lifecycle.js';
import type { DeadLetter, ListOptions } from '../../types.js';
import { decodeDeadLetter } from '../codec.js';
import { DEAD_LETTERS, PURGE, REPLAY, runScript, runScriptBuffer } from '../scripts/index.js';
import type { OpContext } from './context.js';

/** Dead letters handled per script call when replaying or purging all of them. */
const BATCH = 500;

export async function listDeadLetters(ctx: OpContext, options: ListOptions): Promise<DeadLetter[]> {
  const limit = Math.max(0, Math.floor(options.limit ?? 100));
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  const rows = await runScriptBuffer(ctx.client, DEAD_LETTERS, [ctx.keys.deadLetters], [offset, limit]);
  return (rows as unknown[]).map((row) => decodeDeadLetter(ctx.channel, row));
}

/** Dead letters back to the live stream, available now, with `delivery_count` 0 and a fresh TTL. */
export async function replayDeadLetters(ctx: OpContext, ids: readonly string[] | undefined): Promise<number> {
  const { keys } = ctx;
  const ttlMs = expiresAt(ctx.settings, 0);
  const run = (batch: readonly string[]) =>
    runScript(
      ctx.client,
      REPLAY,
      [keys.stream, keys.deadLetters, keys.ids, keys.deadIds, keys.ttl, keys.webhookDepths],
      [ctx.now, ttlMs, BATCH, ...batch],
    ) as Promise<number>;
  return inBatches(ids, run);
}

export async function purgeDeadLetters(ctx: OpContext, ids: readonly string[] | undefined): Promise<number> {
  const run = (batch: readonly string[]) =>
    runScript(
      ctx.client,
      PURGE,
      [ctx.keys.deadLetters, ctx.keys.deadIds],
      [BATCH, ...batch],
    ) as Promise<number>;
  return inBatches(ids, run);
}

/** Given ids: one call. All: the oldest BATCH per call until a call finds fewer. */
async function inBatches(
  ids: readonly string[] | undefined,
  run: (batch: readonly string[]) => Promise<number>,
): Promise<number> {
  if (ids !== undefined) return ids.length === 0 ? 0 : run(ids);
  let total = 0;
  for (;;) {
    const n = await run([]);
    total += n;
    if (n < BATCH) return total;
  }
}

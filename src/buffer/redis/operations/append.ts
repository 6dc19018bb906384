import { duplicateMessageError, queueFullError } from '../../errors.js';
import { newStoredMessage } from '../../lifecycle.js';
import type { NewMessage, StoredMessage } from '../../types.js';
import { encodeData } from '../codec.js';
import { APPEND, runScript } from '../scripts/index.js';
import type { OpContext } from './context.js';

/** Stores one message (one EVALSHA) unless its (channel, webhook) queue is full. */
export async function append(ctx: OpContext, message: NewMessage, id: string): Promise<StoredMessage> {
  const { keys, settings } = ctx;
  const stored = newStoredMessage(message, id, ctx.channel, settings, ctx.now);
  const result = await runScript(
    ctx.client,
    APPEND,
    [keys.ready, keys.delayed, keys.expiry, keys.live, keys.depths, keys.meta, keys.messagePrefix + id],
    [
      id,
      stored.webhook_id,
      encodeData(message),
      stored.body,
      stored.received_at,
      stored.expires_at,
      settings.max_queue_size,
      ctx.now,
    ],
  );
  if (result === -1) throw duplicateMessageError(id);
  if (result === -2) throw queueFullError(ctx.channel, message.webhook_id);
  return stored;
}

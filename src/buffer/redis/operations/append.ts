import { duplicateMessageError, queueFullError } from '../../errors.js';
import { expiresAt } from '../../lifecycle.js';
import type { NewMessage, StoredMessage } from '../../types.js';
import { encodeData } from '../codec.js';
import { APPEND, runScript } from '../scripts/index.js';
import type { OpContext } from './context.js';

/** Stores one message (one EVALSHA) unless its (channel, webhook) queue is full. */
export async function append(ctx: OpContext, message: NewMessage, id: string): Promise<StoredMessage> {
  const { keys, settings } = ctx;
  const receivedAt = message.received_at ?? ctx.now;
  const stored: StoredMessage = {
    id,
    channel: ctx.channel,
    webhook_id: message.webhook_id,
    payload: message.payload ?? null,
    body: Buffer.from(message.body),
    content_type: message.content_type,
    headers: { ...message.headers },
    query: { ...message.query },
    received_at: receivedAt,
    expires_at: expiresAt(settings, receivedAt),
    delivery_count: 0,
    metadata: { ...message.metadata },
  };
  const result = await runScript(
    ctx.client,
    APPEND,
    [keys.ready, keys.delayed, keys.expiry, keys.live, keys.depths, keys.meta, keys.messagePrefix + id],
    [
      id,
      stored.webhook_id,
      encodeData(message),
      stored.body,
      receivedAt,
      stored.expires_at,
      settings.max_queue_size,
      ctx.now,
    ],
  );
  if (result === -1) throw duplicateMessageError(id);
  if (result === -2) throw queueFullError(ctx.channel, message.webhook_id);
  return stored;
}

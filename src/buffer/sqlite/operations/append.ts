import { duplicateMessageError, queueFullError } from '../../errors.js';
import { expiresAt } from '../../lifecycle.js';
import type { NewMessage, StoredMessage } from '../../types.js';
import type { OpContext } from './context.js';

/** Inserts one message unless its (channel, webhook) queue is full. */
export function append(ctx: OpContext, message: NewMessage, id: string): StoredMessage {
  const { st, settings } = ctx;
  if (st.liveCountOfWebhook.get(ctx.channel, message.webhook_id)! >= settings.max_queue_size) {
    throw queueFullError(ctx.channel, message.webhook_id);
  }
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
  try {
    st.insert.run({
      channel: ctx.channel,
      id,
      webhook_id: stored.webhook_id,
      payload: JSON.stringify(stored.payload),
      body: stored.body,
      content_type: stored.content_type,
      headers: JSON.stringify(stored.headers),
      query: JSON.stringify(stored.query),
      metadata: JSON.stringify(stored.metadata),
      received_at: receivedAt,
      expires_at: stored.expires_at,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw duplicateMessageError(id);
    throw error;
  }
  return stored;
}

import { duplicateMessageError, queueFullError } from '../../errors.js';
import { newStoredMessage } from '../../lifecycle.js';
import type { NewMessage, StoredMessage } from '../../types.js';
import type { OpContext } from './context.js';

/** Inserts one message unless its (channel, webhook) queue is full. */
export function append(ctx: OpContext, message: NewMessage, id: string): StoredMessage {
  const { st, settings } = ctx;
  if (st.liveCountOfWebhook.get(ctx.channel, message.webhook_id)! >= settings.max_queue_size) {
    throw queueFullError(ctx.channel, message.webhook_id);
  }
  const stored = newStoredMessage(message, id, ctx.channel, settings, ctx.now);
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
      received_at: stored.received_at,
      expires_at: stored.expires_at,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw duplicateMessageError(id);
    throw error;
  }
  return stored;
}

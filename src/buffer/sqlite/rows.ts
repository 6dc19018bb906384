/** Row shapes of the `messages` table and their mapping to the contract's messages. */
import type { DeadLetter, StoredMessage } from '../types.js';

export type RowState = 'available' | 'leased' | 'dead';

export interface MessageRow {
  seq: number;
  channel: string;
  id: string;
  webhook_id: string;
  state: RowState;
  payload: string;
  body: Buffer;
  content_type: string | null;
  headers: string;
  query: string;
  metadata: string;
  received_at: number;
  expires_at: number;
  delivery_count: number;
  available_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  dead_reason: string | null;
  last_error: string | null;
  dead_at: number | null;
}

/** What settle operations need to know about one id. */
export type OwnerRow = Pick<MessageRow, 'seq' | 'state' | 'lease_owner' | 'delivery_count'>;

export function toStored(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    channel: row.channel,
    webhook_id: row.webhook_id,
    payload: JSON.parse(row.payload) as unknown,
    body: row.body,
    content_type: row.content_type,
    headers: JSON.parse(row.headers) as Record<string, string>,
    query: JSON.parse(row.query) as Record<string, string>,
    received_at: row.received_at,
    expires_at: row.expires_at,
    delivery_count: row.delivery_count,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  };
}

export function toDeadLetter(row: MessageRow): DeadLetter {
  return {
    ...toStored(row),
    reason: row.dead_reason ?? 'rejected',
    last_error: row.last_error,
    dead_at: row.dead_at ?? 0,
  };
}

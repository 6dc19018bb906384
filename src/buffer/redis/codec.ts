/**
 * How a message is stored in its stream entry and read back from script replies. The body is stored as
 * raw bytes (field `body`); the rest of the immutable request (`payload`, `content_type`, `headers`,
 * `query`, `metadata`) is one JSON field `data`, written once at append.
 */
import type { DeadLetter, NewMessage, StoredMessage } from '../types.js';

interface Data {
  readonly payload: unknown;
  readonly content_type: string | null;
  readonly headers: Record<string, string>;
  readonly query: Record<string, string>;
  readonly metadata: Record<string, unknown>;
}

export function encodeData(message: NewMessage): string {
  const data: Data = {
    payload: message.payload ?? null,
    content_type: message.content_type,
    headers: { ...message.headers },
    query: { ...message.query },
    metadata: { ...message.metadata },
  };
  return JSON.stringify(data);
}

/** The reply row of the lease script: id, webhook_id, data, body, received_at, expires_at, delivery_count. */
export function decodeLeased(channel: string, row: unknown): StoredMessage {
  const f = fields(row, 7);
  return stored(channel, f);
}

/** The reply row of the dead-letters script: the leased row, then reason, last_error, dead_at. */
export function decodeDeadLetter(channel: string, row: unknown): DeadLetter {
  const f = fields(row, 10);
  return {
    ...stored(channel, f),
    reason: text(f[7]) ?? 'rejected',
    last_error: text(f[8]),
    dead_at: num(f[9]),
  };
}

function stored(channel: string, f: readonly unknown[]): StoredMessage {
  const data = JSON.parse(text(f[2]) ?? '{}') as Partial<Data>;
  const body = f[3];
  return {
    id: text(f[0]) ?? '',
    channel,
    webhook_id: text(f[1]) ?? '',
    payload: data.payload ?? null,
    body: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '', 'latin1'),
    content_type: data.content_type ?? null,
    headers: data.headers ?? {},
    query: data.query ?? {},
    received_at: num(f[4]),
    expires_at: num(f[5]),
    delivery_count: num(f[6]),
    metadata: data.metadata ?? {},
  };
}

function fields(row: unknown, count: number): readonly unknown[] {
  if (!Array.isArray(row) || row.length < count) throw new Error('redis buffer: malformed script reply');
  return row;
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function num(value: unknown): number {
  return Number(text(value) ?? 0);
}

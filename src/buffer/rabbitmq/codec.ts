/**
 * How a message is laid out on the broker. The AMQP body is immutable for the life of the message:
 * `[u32 length][JSON envelope][raw body bytes]`, so the exact request bytes travel untouched and a
 * re-publish (retry, dead letter, replay) reuses the same Buffer. Everything that changes over the
 * message's life is in AMQP headers (`wc-*`), and the message id is the AMQP `message_id`.
 */
import type { Message, Options } from 'amqplib';
import type { NewMessage, StoredMessage } from '../types.js';

/** AMQP content type of a stored message. */
export const MESSAGE_CONTENT_TYPE = 'application/vnd.webhook-connect.message+v1';

/** The immutable part of a message. */
interface Envelope {
  readonly channel: string;
  readonly webhook_id: string;
  readonly payload: unknown;
  readonly content_type: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly received_at: number;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** The mutable part, carried in AMQP headers. */
export interface MessageMeta {
  /** Deliveries recorded in this copy (the broker's `x-delivery-count` adds returns since). */
  readonly count: number;
  readonly expiresAt: number;
  /** Not leasable before (retry queue only). */
  readonly availableAt?: number;
  /** Dead letters only. */
  readonly reason?: string;
  readonly lastError?: string | null;
  readonly deadAt?: number;
  /** Tie-break of dead letters with the same `deadAt`. */
  readonly deadSeq?: number;
}

export function encodeMessage(input: NewMessage, receivedAt: number): Buffer {
  const envelope: Envelope = {
    channel: input.channel,
    webhook_id: input.webhook_id,
    payload: input.payload ?? null,
    content_type: input.content_type,
    headers: input.headers,
    query: input.query,
    received_at: receivedAt,
    metadata: input.metadata ?? {},
  };
  const json = Buffer.from(JSON.stringify(envelope), 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(json.length, 0);
  return Buffer.concat([head, json, input.body]);
}

/** Decodes a body written by `encodeMessage`; throws on anything else. */
export function decodeMessage(
  id: string,
  content: Buffer,
  meta: MessageMeta,
  deliveryCount: number,
): StoredMessage {
  const length = content.readUInt32BE(0);
  const envelope = JSON.parse(content.toString('utf8', 4, 4 + length)) as Envelope;
  return {
    id,
    channel: envelope.channel,
    webhook_id: envelope.webhook_id,
    payload: envelope.payload,
    body: Buffer.from(content.subarray(4 + length)),
    content_type: envelope.content_type,
    headers: envelope.headers,
    query: envelope.query,
    received_at: envelope.received_at,
    expires_at: meta.expiresAt,
    delivery_count: deliveryCount,
    metadata: envelope.metadata,
  };
}

/** Publish options of a stored message: persistent, with its id and `wc-*` headers. */
export function publishOptions(id: string, meta: MessageMeta, receivedAt: number): Options.Publish {
  const headers: Record<string, unknown> = { 'wc-count': meta.count, 'wc-expires-at': meta.expiresAt };
  if (meta.availableAt !== undefined) headers['wc-available-at'] = meta.availableAt;
  if (meta.reason !== undefined) headers['wc-reason'] = meta.reason;
  if (meta.lastError !== undefined && meta.lastError !== null) headers['wc-last-error'] = meta.lastError;
  if (meta.deadAt !== undefined) headers['wc-dead-at'] = meta.deadAt;
  if (meta.deadSeq !== undefined) headers['wc-dead-seq'] = meta.deadSeq;
  return {
    persistent: true,
    messageId: id,
    contentType: MESSAGE_CONTENT_TYPE,
    timestamp: Math.floor(receivedAt / 1000),
    headers,
  };
}

/** Reads the `wc-*` headers, plus the broker's count of returns of this copy (quorum queues). */
export function readMeta(message: Message): { meta: MessageMeta; returns: number } {
  const h = (message.properties.headers ?? {}) as Record<string, unknown>;
  const lastError = h['wc-last-error'];
  const meta: MessageMeta = {
    count: num(h['wc-count']) ?? 0,
    expiresAt: num(h['wc-expires-at']) ?? Number.MAX_SAFE_INTEGER,
    ...optional('availableAt', num(h['wc-available-at'])),
    ...optional('reason', typeof h['wc-reason'] === 'string' ? h['wc-reason'] : undefined),
    lastError: typeof lastError === 'string' ? lastError : null,
    ...optional('deadAt', num(h['wc-dead-at'])),
    ...optional('deadSeq', num(h['wc-dead-seq'])),
  };
  const returns = num(h['x-delivery-count']) ?? (message.fields.redelivered ? 1 : 0);
  return { meta, returns };
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * The Webhook Connect wire protocol, shared by the relay (cloud) and the connector (local): routes, frame
 * shapes, close codes and parsers. Field names and codes are the reference's; fields marked **additive**
 * are ours and optional, so a client or server that speaks only the reference's frames interoperates.
 */

/** Routes of the streaming API. */
export const ROUTES = {
  websocket: (channel: string) => `/connect/stream/${encodeURIComponent(channel)}`,
  sse: (channel: string) => `/connect/stream/${encodeURIComponent(channel)}/sse`,
  poll: (channel: string) => `/connect/stream/${encodeURIComponent(channel)}/poll`,
  ack: () => '/connect/ack',
  status: (channel: string) => `/connect/status/${encodeURIComponent(channel)}`,
} as const;

/** WebSocket close codes. 4001–4003 are the reference's; 4004 is additive. */
export const CLOSE_CODES = {
  INVALID_TOKEN: 4001,
  CHANNEL_NOT_FOUND: 4002,
  MAX_CONNECTIONS: 4003,
  /** Evicted (missed heartbeats) or disconnected by an admin: reconnect. */
  EVICTED: 4004,
  /** RFC 6455: the frame's data type cannot be accepted (binary frames). */
  UNSUPPORTED_DATA: 1003,
  /** RFC 6455: server going away (shutdown). */
  GOING_AWAY: 1001,
} as const;

export const CLOSE_REASONS: Readonly<Record<number, string>> = {
  4001: 'Invalid channel token',
  4002: 'Channel not found',
  4003: 'Max connections reached',
  4004: 'Evicted',
};

/** Header carrying the connector's self-chosen id. */
export const CONNECTOR_ID_HEADER = 'x-connector-id';
/** Header carrying the connection id on `POST /connect/ack`. */
export const CONNECTION_ID_HEADER = 'x-connection-id';

/** Channel names: `^[a-zA-Z0-9][a-zA-Z0-9._-]*$`, at most 128 characters, no `..`. */
export function isValidChannelName(name: string): boolean {
  return name.length <= 128 && /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(name) && !name.includes('..');
}

// --- server → client -------------------------------------------------------------------------------

export interface ConnectedFrame {
  readonly type: 'connected';
  readonly connection_id: string;
  readonly channel: string;
  readonly timestamp: string;
  /** Additive: the server's heartbeat interval, so clients can size their deadline. */
  readonly heartbeat_interval_seconds?: number;
  /** Additive: most unacknowledged messages the server sends this connection. */
  readonly max_in_flight?: number;
}

export interface WebhookFrame {
  readonly type: 'webhook';
  readonly message_id: string;
  readonly sequence: number;
  readonly webhook_id: string;
  readonly timestamp: string;
  /** The original request headers (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON payload; for binary bodies `null` (use `body`). */
  readonly payload: unknown;
  /** Additive: base64 of the exact request body bytes. */
  readonly body?: string;
  /** Additive: the original `Content-Type`. */
  readonly content_type?: string;
  /** Additive: 1 on first delivery, +1 on each redelivery. */
  readonly delivery_count?: number;
  /** Additive: ISO time after which the message is dead-lettered as `expired`. */
  readonly expires_at?: string;
  /** Additive: the original query parameters. */
  readonly query?: Readonly<Record<string, string>>;
}

export interface HeartbeatFrame {
  readonly type: 'heartbeat';
  readonly timestamp: string;
  readonly server_time?: string;
}

export type ServerFrame = ConnectedFrame | WebhookFrame | HeartbeatFrame;

// --- client → server -------------------------------------------------------------------------------

export interface AckFrame {
  readonly type: 'ack';
  /** One id (reference) ... */
  readonly message_id?: string;
  /** ... or a batch (additive). */
  readonly message_ids?: readonly string[];
}

export interface NackFrame {
  readonly type: 'nack';
  readonly message_id?: string;
  readonly message_ids?: readonly string[];
  /** Default true: make the message available again (after backoff). False: dead-letter it. */
  readonly retry?: boolean;
  /** Additive: why the delivery failed (kept with a dead letter; at most 1,000 characters). */
  readonly error?: string;
  /** Additive: requested delay before redelivery, in seconds. */
  readonly delay_seconds?: number;
}

export interface ClientHeartbeatFrame {
  readonly type: 'heartbeat';
  readonly timestamp?: string;
}

export type ClientFrame = AckFrame | NackFrame | ClientHeartbeatFrame;

/** A client frame with its ids normalised to a list. */
export type ParsedClientFrame =
  | { readonly type: 'ack'; readonly messageIds: readonly string[] }
  | {
      readonly type: 'nack';
      readonly messageIds: readonly string[];
      readonly retry: boolean;
      readonly error: string | undefined;
      readonly delaySeconds: number | undefined;
    }
  | { readonly type: 'heartbeat' };

export type ParseResult<T> =
  { readonly ok: true; readonly frame: T } | { readonly ok: false; readonly error: string };

const MAX_IDS_PER_FRAME = 1000;
const MAX_ERROR_LENGTH = 1000;

function messageIdsOf(fields: Record<string, unknown>): readonly string[] | string {
  const ids: string[] = [];
  if (fields.message_id !== undefined) {
    if (typeof fields.message_id !== 'string' || fields.message_id === '')
      return 'message_id must be a non-empty string';
    ids.push(fields.message_id);
  }
  if (fields.message_ids !== undefined) {
    if (!Array.isArray(fields.message_ids)) return 'message_ids must be an array';
    if (fields.message_ids.length > MAX_IDS_PER_FRAME)
      return `at most ${MAX_IDS_PER_FRAME} message_ids per frame`;
    for (const id of fields.message_ids) {
      if (typeof id !== 'string' || id === '') return 'message_ids must be non-empty strings';
      ids.push(id);
    }
  }
  return ids.length === 0 ? 'message_id or message_ids is required' : ids;
}

/** Parses one client text frame. Unknown `type`s are errors the caller may log and ignore. */
export function parseClientFrame(text: string): ParseResult<ParsedClientFrame> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'frame is not a JSON object' };
  }
  const fields = value as Record<string, unknown>;
  switch (fields.type) {
    case 'heartbeat':
      return { ok: true, frame: { type: 'heartbeat' } };
    case 'ack': {
      const ids = messageIdsOf(fields);
      return typeof ids === 'string'
        ? { ok: false, error: ids }
        : { ok: true, frame: { type: 'ack', messageIds: ids } };
    }
    case 'nack': {
      const ids = messageIdsOf(fields);
      if (typeof ids === 'string') return { ok: false, error: ids };
      if (fields.retry !== undefined && typeof fields.retry !== 'boolean')
        return { ok: false, error: 'retry must be a boolean' };
      const delay = fields.delay_seconds;
      if (
        delay !== undefined &&
        (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || delay > 86_400)
      ) {
        return { ok: false, error: 'delay_seconds must be a number between 0 and 86400' };
      }
      const error = typeof fields.error === 'string' ? fields.error.slice(0, MAX_ERROR_LENGTH) : undefined;
      return {
        ok: true,
        frame: {
          type: 'nack',
          messageIds: ids,
          retry: fields.retry !== false,
          error,
          delaySeconds: delay as number | undefined,
        },
      };
    }
    default:
      return {
        ok: false,
        error: `unknown frame type ${JSON.stringify(fields.type)?.slice(0, 40) ?? 'undefined'}`,
      };
  }
}

/** Parses one server frame (connector side). Frames of unknown types are reported, not thrown. */
export function parseServerFrame(text: string): ParseResult<ServerFrame> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'frame is not a JSON object' };
  }
  const fields = value as Record<string, unknown>;
  switch (fields.type) {
    case 'connected':
      return typeof fields.connection_id === 'string'
        ? { ok: true, frame: value as ConnectedFrame }
        : { ok: false, error: 'connected frame without connection_id' };
    case 'heartbeat':
      return { ok: true, frame: value as HeartbeatFrame };
    case 'webhook':
      return typeof fields.message_id === 'string' &&
        fields.message_id !== '' &&
        typeof fields.webhook_id === 'string'
        ? { ok: true, frame: value as WebhookFrame }
        : { ok: false, error: 'webhook frame without message_id or webhook_id' };
    default:
      return {
        ok: false,
        error: `unknown frame type ${JSON.stringify(fields.type)?.slice(0, 40) ?? 'undefined'}`,
      };
  }
}

/**
 * The exact body bytes of a webhook frame: `body` (base64) when present, else the payload serialised
 * (a receiver that speaks only the reference's frames sends no `body`).
 */
export function frameBodyBytes(frame: WebhookFrame): Buffer {
  if (typeof frame.body === 'string') return Buffer.from(frame.body, 'base64');
  if (typeof frame.payload === 'string') return Buffer.from(frame.payload, 'utf8');
  return Buffer.from(JSON.stringify(frame.payload ?? null), 'utf8');
}

/**
 * One connector session, whatever the transport. WebSocket, SSE and long-poll each adapt
 * `SessionTransport` (send a frame, close); leases, back-pressure, heartbeats and eviction are written
 * once, here and in the channel service.
 *
 * ## Session lifecycle
 *
 * ```
 *   connecting ──accepted (token, IP, max_connections)──▶ connected ──┬─ client closed / send failed ─┐
 *                                                          │          ├─ evicted (heartbeat deadline,   │
 *                                                          │          │   admin disconnect) → 4004      │
 *                                                          │          └─ poll answered / relay stops ───┤
 *                                                          ▼                                            ▼
 *                                                    disconnecting ──leases released or kept──▶ disconnected
 * ```
 *
 * - **connected**: the channel's pump leases messages to the session while it has capacity
 *   (`max_in_flight` minus its in-flight leases); its frames go out through the transport.
 * - **disconnecting**: no more frames. A lost WebSocket/SSE connection or an eviction releases its leases
 *   (counted as an attempt: the messages come back after the backoff); our own shutdown releases them
 *   without counting; an answered long-poll keeps them, so `POST /connect/ack` works until `ack_timeout`.
 *
 * ## Lease lifecycle (per message, as seen by a session)
 *
 * leased to this session (in flight, with a deadline) → acked (gone) | nacked (back to the buffer, retry or
 * dead letter) | deadline passed (dropped here; the buffer reclaims it and redelivers with
 * `delivery_count` + 1) | session ended (released).
 */
import type { StoredMessage } from '../buffer/types.js';
import type { ServerFrame, WebhookFrame } from '../protocol/frames.js';

export type SessionProtocol = 'websocket' | 'sse' | 'long_poll';
export type SessionState = 'connecting' | 'connected' | 'disconnecting' | 'disconnected';

/** What a transport offers the session. */
export interface SessionTransport {
  readonly protocol: SessionProtocol;
  /** Sends one frame; false when the transport can no longer send. */
  send(frame: ServerFrame): boolean;
  /** Ends the transport: a WebSocket close code, the end of an SSE stream, a long-poll answer. */
  close(code: number, reason: string): void;
}

export interface SessionInfo {
  readonly id: string;
  readonly channel: string;
  readonly connectorId: string;
  readonly remoteIp: string | null;
  readonly userAgent: string | null;
  /** Most unacked messages; default: the channel's `max_in_flight` (long-poll: `max_messages`). */
  readonly maxInFlight: () => number;
}

export class Session {
  readonly id: string;
  readonly channel: string;
  readonly connectorId: string;
  readonly remoteIp: string | null;
  readonly userAgent: string | null;
  readonly transport: SessionTransport;
  readonly connectedAt: number;
  state: SessionState = 'connecting';
  lastHeartbeatAt: number;
  lastMessageAt: number | null = null;
  lastServerHeartbeatAt: number;
  /** Last ack or nack from this session (SSE liveness); starts at the connect time. */
  lastSettledAt: number;
  /** message id → lease deadline (epoch ms). */
  readonly inFlight = new Map<string, number>();
  messagesReceived = 0;
  messagesAcked = 0;
  messagesNacked = 0;
  readonly #maxInFlight: () => number;

  constructor(info: SessionInfo, transport: SessionTransport, now: number) {
    this.id = info.id;
    this.channel = info.channel;
    this.connectorId = info.connectorId;
    this.remoteIp = info.remoteIp;
    this.userAgent = info.userAgent;
    this.transport = transport;
    this.connectedAt = now;
    this.lastHeartbeatAt = now;
    this.lastServerHeartbeatAt = now;
    this.lastSettledAt = now;
    this.#maxInFlight = info.maxInFlight;
  }

  get protocol(): SessionProtocol {
    return this.transport.protocol;
  }

  get open(): boolean {
    return this.state === 'connected';
  }

  /** Messages the session may still take (back-pressure at `max_in_flight`). */
  capacity(): number {
    return this.open ? Math.max(0, this.#maxInFlight() - this.inFlight.size) : 0;
  }

  /** Sends leased messages; false (and nothing recorded) when the session can no longer take them. */
  deliver(messages: readonly StoredMessage[], leaseDeadline: number, now: number): boolean {
    if (!this.open) return false;
    for (const message of messages) {
      this.inFlight.set(message.id, leaseDeadline);
      if (!this.transport.send(webhookFrame(message))) return false;
      this.messagesReceived++;
      this.lastMessageAt = now;
    }
    return true;
  }

  /** Forgets settled ids; returns how many were in flight here. */
  settled(ids: readonly string[], kind: 'ack' | 'nack'): void {
    for (const id of ids) {
      if (!this.inFlight.delete(id)) continue;
      if (kind === 'ack') this.messagesAcked++;
      else this.messagesNacked++;
    }
  }

  /** Drops leases past their deadline (the buffer reclaims them); returns their ids. */
  dropExpired(now: number): string[] {
    const dropped: string[] = [];
    for (const [id, deadline] of this.inFlight) {
      if (deadline <= now) {
        this.inFlight.delete(id);
        dropped.push(id);
      }
    }
    return dropped;
  }

  /** The reference's Connection dict (admin API). */
  toJSON(): Record<string, unknown> {
    return {
      connection_id: this.id,
      connector_id: this.connectorId,
      channel: this.channel,
      protocol: this.protocol,
      connected_at: iso(this.connectedAt),
      last_heartbeat_at: iso(this.lastHeartbeatAt),
      last_message_at: this.lastMessageAt === null ? null : iso(this.lastMessageAt),
      state: this.state,
      in_flight_count: this.inFlight.size,
      messages_received: this.messagesReceived,
      messages_acked: this.messagesAcked,
      messages_nacked: this.messagesNacked,
      remote_ip: this.remoteIp,
    };
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The wire frame of a stored message: the reference's fields plus the additive ones. */
export function webhookFrame(message: StoredMessage): WebhookFrame {
  const sequence = message.metadata.sequence;
  return {
    type: 'webhook',
    message_id: message.id,
    sequence: typeof sequence === 'number' ? sequence : 0,
    webhook_id: message.webhook_id,
    timestamp: iso(message.received_at),
    headers: message.headers,
    payload: message.payload,
    body: message.body.toString('base64'),
    ...(message.content_type === null ? {} : { content_type: message.content_type }),
    delivery_count: message.delivery_count,
    expires_at: iso(message.expires_at),
    query: message.query,
  };
}

/**
 * The contract every transport (WebSocket, SSE, long-poll) adapts: `open` establishes one connection to
 * the relay and resolves with a live `Session` once the relay accepted it (or rejects with a
 * `ConnectFailure` saying why); the session delivers webhook frames to the handlers, carries acks and
 * nacks, and settles `ended` exactly once when the connection is gone. Reconnecting is not a transport's
 * job: the `StreamClient` (client.ts) opens a new session.
 */
import type { Logger } from '../../observability/logger.js';
import type { WebhookFrame } from '../../protocol/frames.js';
import type { ConnectorConfig, Protocol } from '../config.js';
import type { Agents, TlsOptions } from '../tls.js';

/** Why a connection attempt failed or a session ended. */
export type EndReason =
  /** The relay refused the token: WebSocket close 4001 or HTTP 401/403. */
  | 'auth_rejected'
  /** Close 4002 or HTTP 404. */
  | 'channel_not_found'
  /** Close 4003, HTTP 503 "Max connections reached" or the SSE `max_connections_reached` event. */
  | 'max_connections'
  /** Close 4004: evicted or disconnected by an admin. */
  | 'evicted'
  /** No frame from the relay within the heartbeat deadline (silent or half-open connection). */
  | 'heartbeat_timeout'
  /** The relay closed the connection. */
  | 'closed'
  /** Network, TLS, protocol or timeout error. */
  | 'error'
  /** We closed it (shutdown). */
  | 'stopped';

export interface SessionEnd {
  readonly reason: EndReason;
  /** Human-readable detail (status, close code and reason, error message). */
  readonly detail: string;
}

/** Thrown by `open` when no session could be established. */
export class ConnectFailure extends Error {
  constructor(
    readonly reason: EndReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectFailure';
  }
}

/** What a nack carries. */
export interface NackOptions {
  /** Redeliver (true) or dead-letter (false). */
  readonly retry: boolean;
  /** Why the delivery failed (additive; the reference ignores it). */
  readonly error?: string;
}

export interface Session {
  readonly protocol: Protocol;
  /** The relay's connection id, once known. */
  connectionId(): string | undefined;
  /** Sends an ack; true when the relay got it (WebSocket: written to the socket; HTTP: 200). */
  ack(messageId: string): Promise<boolean>;
  nack(messageId: string, options: NackOptions): Promise<boolean>;
  /** Settles once when the session is over. Never rejects. */
  readonly ended: Promise<SessionEnd>;
  /** Closes the session normally (idempotent); `ended` then settles with `stopped`. */
  close(): void;
}

export interface SessionHandlers {
  /** A webhook frame arrived. Must not throw. */
  onWebhook(frame: WebhookFrame): void;
}

/** Shared by all transports of one connector. */
export interface TransportContext {
  readonly config: ConnectorConfig;
  /** TLS options for the relay (WebSocket). */
  readonly tls: TlsOptions;
  /** Keep-alive agents for the relay (SSE, long-poll, acks). */
  readonly agents: Agents;
  readonly logger: Logger;
  /**
   * Resolves with the number of deliveries that could start now (≥ 1), waiting while there is none —
   * long-poll asks for at most this many messages. Rejects when `signal` aborts.
   */
  waitForCapacity(signal: AbortSignal): Promise<number>;
}

export type OpenTransport = (
  context: TransportContext,
  handlers: SessionHandlers,
  signal: AbortSignal,
) => Promise<Session>;

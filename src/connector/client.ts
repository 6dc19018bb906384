/**
 * The connection state machine: one `StreamClient` keeps one session to the relay alive for as long as
 * the connector runs.
 *
 * States and transitions:
 *
 * - `idle` → `connecting` on `start()`.
 * - `connecting` → `connected` when the transport's `open` resolves (WebSocket handshake accepted, SSE
 *   200, first long-poll answered); → `reconnecting` when it fails.
 * - `connected` → `reconnecting` when the session ends: the relay closed it (normally, 4004 evicted, 4003
 *   max connections), the network failed, or the heartbeat deadline passed (`heartbeat_timeout` seconds
 *   without any frame: a silent relay or a half-open socket is torn down, not waited on).
 * - `reconnecting` → `connecting` after a delay: exponential backoff with full jitter, a uniformly random
 *   delay in `[0, min(reconnect_delay × multiplier^n, max_reconnect_delay)]` where `n` counts failures
 *   since the last stable connection. A connection counts as stable (and resets `n`) once it stayed up for
 *   `min(10 s, max_reconnect_delay)`, so a relay that accepts and immediately drops us is not hammered.
 *   A rejected token (close 4001, HTTP 401/403) or an unknown channel (4002, 404) is retried slowly, at
 *   50–100 % of `max_reconnect_delay`, and logged as an error that says what to check.
 * - any state → `closing` on `stop()` (the current session is closed normally, a pending delay or
 *   connection attempt is cancelled) → `closed`. `closed` is final.
 *
 * Acks and nacks go through the current session; with no session they return false (the relay returns the
 * message to the queue when the connection goes away, and the connector's dedup window acks the
 * redelivery without delivering it again).
 */
import type { Logger } from '../observability/logger.js';
import type { WebhookFrame } from '../protocol/frames.js';
import { backoffDelayMs, sleep } from '../shared/backoff.js';
import type { ConnectorConfig } from './config.js';
import {
  ConnectFailure,
  type NackOptions,
  type OpenTransport,
  type Session,
  type SessionEnd,
  type TransportContext,
} from './transports/types.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

export const CONNECTION_STATES: readonly ConnectionState[] = [
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'closing',
  'closed',
];

export interface StreamClientOptions {
  readonly config: ConnectorConfig;
  readonly open: OpenTransport;
  readonly context: TransportContext;
  readonly logger: Logger;
  readonly onWebhook: (frame: WebhookFrame) => void;
  /** Called on every state change. */
  readonly onState?: (state: ConnectionState) => void;
  /** Called before each reconnect delay with the reason. */
  readonly onReconnect?: (end: SessionEnd, delayMs: number) => void;
  /** Random source in [0, 1) for the jitter; default `Math.random`. */
  readonly random?: () => number;
}

const SLOW_REASONS = new Set(['auth_rejected', 'channel_not_found']);

export class StreamClient {
  #state: ConnectionState = 'idle';
  #session: Session | undefined;
  /** The session being opened: frames can arrive before `open` has resolved to us. */
  #opening: Promise<Session | undefined> | undefined;
  readonly #stop = new AbortController();
  readonly #options: StreamClientOptions;
  #loop: Promise<void> | undefined;
  #reconnects = 0;

  constructor(options: StreamClientOptions) {
    this.#options = options;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get connectionId(): string | undefined {
    return this.#session?.connectionId();
  }

  /** Reconnect attempts so far. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Starts the loop; the promise settles when the client is closed. Idempotent. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    return this.#loop;
  }

  /** Closes the session and ends the loop. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state !== 'closed') this.#setState('closing');
    this.#stop.abort(new Error('connector stopping'));
    this.#session?.close();
    await this.#loop;
    this.#setState('closed');
  }

  async ack(messageId: string): Promise<boolean> {
    const session = this.#session ?? (await this.#opening);
    return session === undefined ? false : session.ack(messageId);
  }

  async nack(messageId: string, options: NackOptions): Promise<boolean> {
    const session = this.#session ?? (await this.#opening);
    return session === undefined ? false : session.nack(messageId, options);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#options.onState?.(state);
  }

  async #run(): Promise<void> {
    const { config, logger } = this.#options;
    const signal = this.#stop.signal;
    const random = this.#options.random ?? Math.random;
    const stableMs = Math.min(10_000, config.max_reconnect_delay * 1000);
    let failures = 0;
    while (!signal.aborted) {
      this.#setState('connecting');
      let end: SessionEnd;
      try {
        const opening = this.#options.open(
          this.#options.context,
          { onWebhook: this.#options.onWebhook },
          signal,
        );
        this.#opening = opening.catch(() => undefined);
        const session = await opening;
        this.#opening = undefined;
        if (signal.aborted) {
          session.close();
          await session.ended;
          break;
        }
        this.#session = session;
        const connectedAt = Date.now();
        this.#setState('connected');
        logger.info({ protocol: session.protocol, channel: config.channel }, 'connected to the relay');
        end = await session.ended;
        this.#session = undefined;
        if (Date.now() - connectedAt >= stableMs) failures = 0;
      } catch (error) {
        this.#opening = undefined;
        end =
          error instanceof ConnectFailure
            ? { reason: error.reason, detail: error.message }
            : { reason: 'error', detail: (error as Error).message };
      }
      if (signal.aborted) break;

      const slow = SLOW_REASONS.has(end.reason);
      const delayMs = slow
        ? Math.round(config.max_reconnect_delay * 1000 * (0.5 + 0.5 * random()))
        : backoffDelayMs(failures, {
            initialMs: config.reconnect_delay * 1000,
            maxMs: config.max_reconnect_delay * 1000,
            multiplier: config.reconnect_backoff_multiplier,
            jitter: true,
            random,
          });
      failures += 1;
      this.#reconnects += 1;
      if (end.reason === 'auth_rejected') {
        logger.error(
          { channel: config.channel, detail: end.detail, retry_in_ms: delayMs },
          `the relay rejected the channel token for '${config.channel}': check 'token' (it may have been rotated); retrying slowly`,
        );
      } else if (end.reason === 'channel_not_found') {
        logger.error(
          { channel: config.channel, detail: end.detail, retry_in_ms: delayMs },
          `the relay does not know channel '${config.channel}': check 'channel'; retrying slowly`,
        );
      } else {
        logger.warn(
          { reason: end.reason, detail: end.detail, retry_in_ms: delayMs },
          'disconnected from the relay; reconnecting',
        );
      }
      this.#setState('reconnecting');
      this.#options.onReconnect?.(end, delayMs);
      await sleep(delayMs, signal).catch(() => undefined);
    }
    this.#setState('closed');
  }
}

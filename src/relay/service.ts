/**
 * The channel service: channels registered from configuration, connector sessions, and the pump that
 * leases buffered messages to sessions. All message state (leases, delivery counts, dead letters, token
 * rotation) lives in the buffer, so any number of instances can serve one store; what is kept here is
 * per-instance: the sessions attached to this process and their in-flight view.
 *
 * ## Channel lifecycle
 *
 * ```
 *   (config load/reload names it) ──▶ declared ──ensureChannel ok──▶ active ──reload drops it──▶ removed
 *                                       ▲   │ buffer unreachable: retried every sweep      (sessions closed
 *                                       └───┘                                               with 4004; the
 *                                                                                          stored messages stay)
 * ```
 *
 * A declared channel accepts publishes (each publish first awaits the channel's declaration) and
 * connectors. Settings changed by a reload apply at once: the buffer gets the new settings and sessions
 * read limits from the channel on every use.
 *
 * ## Delivery
 *
 * Each channel has one pump. It runs when woken (a publish or nack in this process via `buffer.watch`, an
 * ack freeing capacity, a new session) and on every sweep tick (messages appended by other instances,
 * retry backoffs that ended, leases that expired). A pump pass leases, for every open session with
 * capacity — in rotating (round-robin) order — up to its free slots, and repeats while a lease came back
 * full. A session at `max_in_flight` is skipped, never waited on, so it cannot hold back the others.
 */
import { randomBytes } from 'node:crypto';
import { bufferUnavailableError, channelNotFoundError } from '../buffer/errors.js';
import type { BufferHealth, MessageBuffer, NackOptions, SettleOutcome } from '../buffer/types.js';
import type { ConfigIssue } from '../config/issues.js';
import type { RelayMessage, RelayPublisherPort } from '../modules/types.js';
import type { Logger } from '../observability/logger.js';
import { CLOSE_CODES, isValidChannelName, type ParsedClientFrame } from '../protocol/frames.js';
import type { ChannelRegistrar, CompiledWebhook } from '../receiver/runtime.js';
import { isWebhookConnectError, WebhookConnectError } from '../shared/errors.js';
import { ipInRanges } from '../shared/ip.js';
import { bufferSettings, collectChannels, type ChannelDefinition } from './channels.js';
import { Session, type SessionProtocol, type SessionTransport } from './session.js';
import { parseChannelState, rotate, tokenValid, type ChannelState } from './tokens.js';

/** How long a cached channel state (token rotation) is trusted before it is read again. */
const STATE_TTL_MS = 5000;
/** A failed token check re-reads the state at most this often per channel. */
const STATE_REFRESH_MIN_MS = 1000;
/** Most messages one lease call asks for. */
const LEASE_BATCH_MAX = 100;
/** TTL sweep (`reclaimExpired`) of every channel, even without sessions. */
const RECLAIM_INTERVAL_MS = 30_000;
/** A WebSocket connector silent for this many heartbeat intervals is evicted. */
export const HEARTBEAT_MISSES = 3;

export interface RelayServiceOptions {
  /** Creates the buffer on first need (a configuration with channels, or `enabled`). */
  readonly createBuffer: () => Promise<MessageBuffer>;
  readonly logger: Logger;
  /** Start the buffer even when no webhook uses `webhook_connect`. Default false. */
  readonly enabled?: boolean;
  /** Period of the sweep (heartbeats, deadlines, pumps), ms. Default 1000. */
  readonly sweepIntervalMs?: number;
  /** Default `Date.now`. */
  readonly now?: () => number;
  /** Called once when the buffer was created (startup log, health registration). */
  readonly onStarted?: (buffer: MessageBuffer) => void;
}

/** The settle outcome of one id. */
export interface IdOutcome {
  readonly message_id: string;
  readonly outcome: SettleOutcome;
  readonly state?: 'available' | 'dead';
}

/**
 * What this instance did on one channel since the channel was registered here (monotonic; read by the
 * `/metrics` collector at scrape time, so the hot paths only increment numbers).
 */
export interface ChannelCounters {
  published: number;
  /** Refused publishes by error code (`WC_QUEUE_FULL`, `WC_BUFFER_UNAVAILABLE`, ...). */
  readonly refused: Map<string, number>;
  /** Webhook frames sent, by session protocol. */
  readonly delivered: Record<SessionProtocol, number>;
  acked: number;
  nackedRetry: number;
  nackedDead: number;
  /** Sessions evicted, by cause. */
  readonly evicted: Record<EvictionCause, number>;
}

export type EvictionCause = 'heartbeat' | 'unacked_leases' | 'admin';

function newCounters(): ChannelCounters {
  return {
    published: 0,
    refused: new Map(),
    delivered: { websocket: 0, sse: 0, long_poll: 0 },
    acked: 0,
    nackedRetry: 0,
    nackedDead: 0,
    evicted: { heartbeat: 0, unacked_leases: 0, admin: 0 },
  };
}

class Channel {
  definition: ChannelDefinition;
  /** When this instance registered the channel, and when a reload last changed its definition. */
  readonly createdAt: number;
  updatedAt: number;
  readonly counters = newCounters();
  /** Resolves once the buffer declared the channel with the current settings. */
  declared: Promise<void> | undefined;
  declareFailed = false;
  readonly sessions: Session[] = [];
  rr = 0;
  pumping = false;
  again = false;
  sequence = 0;
  state: ChannelState = {};
  stateAt = -Infinity;
  refusedRefreshAt = -Infinity;
  lastReclaimAt: number;
  unwatch: () => void = () => {};

  constructor(definition: ChannelDefinition, now: number) {
    this.definition = definition;
    this.createdAt = now;
    this.updatedAt = now;
    this.lastReclaimAt = now;
  }

  get name(): string {
    return this.definition.name;
  }
}

export class RelayService implements RelayPublisherPort, ChannelRegistrar {
  readonly #options: RelayServiceOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #channels = new Map<string, Channel>();
  readonly #sessions = new Map<string, Session>();
  #buffer: MessageBuffer | undefined;
  #starting: Promise<MessageBuffer> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #draining = false;
  #lastPumpErrorLogAt = 0;

  constructor(options: RelayServiceOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** The buffer, once started. */
  get buffer(): MessageBuffer | undefined {
    return this.#buffer;
  }

  get running(): boolean {
    return this.#buffer !== undefined && !this.#closed;
  }

  /** Shutting down (`closeSessions` ran): new sessions are refused as such, not as a full channel. */
  get draining(): boolean {
    return this.#draining || this.#closed;
  }

  // --- registration from configuration ----------------------------------------------------------------

  validate(webhooks: ReadonlyMap<string, CompiledWebhook>, file: string): readonly ConfigIssue[] {
    return collectChannels(webhooks, file).issues;
  }

  async apply(webhooks: ReadonlyMap<string, CompiledWebhook>): Promise<void> {
    const { channels } = collectChannels(webhooks);
    if (channels.size > 0 || this.#options.enabled === true) await this.start();
    if (this.#buffer === undefined) return;
    for (const [name, definition] of channels) {
      let channel = this.#channels.get(name);
      if (channel === undefined) {
        channel = new Channel(definition, this.#now());
        this.#channels.set(name, channel);
        const target = channel;
        channel.unwatch = this.#buffer.watch(name, () => this.#pump(target));
        this.#logger.info(
          { channel: name, webhooks: definition.webhookIds },
          'webhook connect channel registered',
        );
      } else {
        if (!sameDefinition(channel.definition, definition)) channel.updatedAt = this.#now();
        channel.definition = definition;
      }
      this.#declare(channel);
    }
    for (const [name, channel] of this.#channels) {
      if (channels.has(name)) continue;
      this.#channels.delete(name);
      channel.unwatch();
      for (const session of [...channel.sessions]) {
        void this.endSession(session, 'uncounted', { code: CLOSE_CODES.EVICTED, reason: 'Channel removed' });
      }
      this.#logger.info({ channel: name }, 'webhook connect channel removed (stored messages are kept)');
    }
    await Promise.all([...this.#channels.values()].map((channel) => channel.declared?.catch(() => {})));
  }

  /** Creates the buffer and starts the sweep (idempotent). */
  async start(): Promise<MessageBuffer> {
    if (this.#buffer !== undefined) return this.#buffer;
    this.#starting ??= this.#options.createBuffer().then((buffer) => {
      this.#buffer = buffer;
      this.#timer = setInterval(() => this.#sweep(), this.#options.sweepIntervalMs ?? 1000);
      this.#timer.unref();
      this.#options.onStarted?.(buffer);
      return buffer;
    });
    try {
      return await this.#starting;
    } catch (error) {
      this.#starting = undefined;
      throw error;
    }
  }

  #declare(channel: Channel): void {
    const buffer = this.#buffer;
    if (buffer === undefined) return;
    const settings = bufferSettings(channel.definition.config);
    const declared = buffer.ensureChannel(channel.name, settings).then(
      () => {
        if (channel.declareFailed)
          this.#logger.info({ channel: channel.name }, 'webhook connect channel declared');
        channel.declareFailed = false;
      },
      (error: unknown) => {
        if (!channel.declareFailed)
          this.#logger.warn({ channel: channel.name, err: error }, 'cannot declare channel; retrying');
        channel.declareFailed = true;
        throw error;
      },
    );
    declared.catch(() => {});
    channel.declared = declared;
  }

  // --- publishing -----------------------------------------------------------------------------------

  async publish(message: RelayMessage, signal: AbortSignal): Promise<{ message_id: string }> {
    const buffer = this.#buffer;
    if (buffer === undefined || this.#closed)
      throw new WebhookConnectError('WC_RELAY_NOT_RUNNING', { retryAfterSeconds: 5 });
    const channel = this.#channels.get(message.channel);
    if (channel === undefined) throw channelNotFoundError(message.channel);
    try {
      if (channel.declareFailed) this.#declare(channel);
      await channel.declared;
      signal.throwIfAborted();
      const stored = await buffer.append({
        channel: message.channel,
        webhook_id: message.webhook_id,
        payload: message.payload,
        body: message.body,
        content_type: message.content_type,
        headers: message.headers,
        query: message.query,
        received_at: message.received_at,
        metadata: { source: 'webhook_connect_module', sequence: ++channel.sequence },
      });
      channel.counters.published++;
      return { message_id: stored.id };
    } catch (error) {
      if (signal.aborted && !isWebhookConnectError(error)) throw error;
      const coded = isWebhookConnectError(error) ? error : bufferUnavailableError(error);
      const refused = channel.counters.refused;
      refused.set(coded.code, (refused.get(coded.code) ?? 0) + 1);
      throw coded;
    }
  }

  // --- channels and tokens ----------------------------------------------------------------------------

  channel(name: string): ChannelDefinition | undefined {
    return this.#channels.get(name)?.definition;
  }

  channelNames(): string[] {
    return [...this.#channels.keys()];
  }

  /** Registration and last-change times of a channel in this instance (epoch ms). */
  channelTimes(name: string): { createdAt: number; updatedAt: number } | undefined {
    const channel = this.#channels.get(name);
    return channel === undefined ? undefined : { createdAt: channel.createdAt, updatedAt: channel.updatedAt };
  }

  /** This instance's counters of a channel (see `ChannelCounters`). */
  counters(name: string): Readonly<ChannelCounters> | undefined {
    return this.#channels.get(name)?.counters;
  }

  /** Whether `ip` may connect to the channel (`allowed_ips`; empty = any). */
  ipAllowed(name: string, ip: string | undefined): boolean {
    const ranges = this.#channels.get(name)?.definition.allowedIps ?? [];
    return ranges.length === 0 || (ip !== undefined && ipInRanges(ip, ranges));
  }

  /** Whether `token` is valid for the channel (false for unknown channels). */
  async authorize(name: string, token: string | undefined): Promise<boolean> {
    const channel = this.#channels.get(name);
    if (channel === undefined || token === undefined || token === '') return false;
    const configToken = channel.definition.config.channel_token;
    const now = this.#now();
    if (now - channel.stateAt > STATE_TTL_MS) await this.#refreshState(channel);
    if (tokenValid(token, configToken, channel.state, now)) return true;
    // Maybe rotated on another instance: read again (at most once a second per channel, so a flood of
    // bad tokens does not become a flood of buffer reads).
    if (now - channel.refusedRefreshAt < STATE_REFRESH_MIN_MS) return false;
    channel.refusedRefreshAt = now;
    await this.#refreshState(channel);
    return tokenValid(token, configToken, channel.state, this.#now());
  }

  async #refreshState(channel: Channel): Promise<void> {
    const buffer = this.#buffer;
    if (buffer === undefined) return;
    try {
      await channel.declared;
      channel.state = parseChannelState(await buffer.getChannelState(channel.name));
      channel.stateAt = this.#now();
    } catch (error) {
      // Keep the last known state; the configured token still works.
      this.#logger.warn({ channel: channel.name, err: error }, 'cannot read channel state');
    }
  }

  /** Rotates the channel token; the old one stays valid for `graceSeconds`. Stored in the buffer. */
  async rotateToken(name: string, graceSeconds: number): Promise<{ token: string; oldExpiresAt: number }> {
    const buffer = this.#requireBuffer();
    const channel = this.#channels.get(name);
    if (channel === undefined) throw channelNotFoundError(name);
    await channel.declared;
    const state = parseChannelState(await buffer.getChannelState(name));
    const now = this.#now();
    const { token, rotation } = rotate(state, channel.definition.config.channel_token, graceSeconds, now);
    const next: ChannelState = { ...state, rotation };
    await buffer.setChannelState(name, next);
    channel.state = next;
    channel.stateAt = now;
    return { token, oldExpiresAt: now + graceSeconds * 1000 };
  }

  #requireBuffer(): MessageBuffer {
    if (this.#buffer === undefined || this.#closed) throw new WebhookConnectError('WC_RELAY_NOT_RUNNING');
    return this.#buffer;
  }

  // --- sessions -----------------------------------------------------------------------------------------

  /**
   * Attaches a session to a channel; undefined when the channel is at `max_connections` (per instance).
   * The caller validated token and address.
   */
  openSession(
    name: string,
    transport: SessionTransport,
    info: { connectorId: string; remoteIp: string | null; userAgent: string | null; maxInFlight?: number },
  ): Session | undefined {
    const channel = this.#channels.get(name);
    if (channel === undefined || this.#closed || this.#draining) return undefined;
    if (channel.sessions.length >= channel.definition.config.max_connections) return undefined;
    const session = new Session(
      {
        id: newConnectionId(transport.protocol, name),
        channel: name,
        connectorId: info.connectorId,
        remoteIp: info.remoteIp,
        userAgent: info.userAgent,
        maxInFlight:
          info.maxInFlight === undefined
            ? () => channel.definition.config.max_in_flight
            : () => info.maxInFlight as number,
      },
      transport,
      this.#now(),
    );
    channel.sessions.push(session);
    this.#sessions.set(session.id, session);
    return session;
  }

  /** Marks the session connected and starts delivering to it. */
  activate(session: Session): void {
    if (session.state !== 'connecting') return;
    session.state = 'connected';
    const channel = this.#channels.get(session.channel);
    if (channel !== undefined) this.#pump(channel);
  }

  session(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  sessions(channel?: string): Session[] {
    if (channel === undefined) return [...this.#sessions.values()];
    return [...(this.#channels.get(channel)?.sessions ?? [])];
  }

  /**
   * Ends a session. `counted`: its leases go back as a failed attempt (connection lost, eviction);
   * `uncounted`: back without counting (our shutdown); `keep`: leases stay until ack or `ack_timeout`
   * (an answered long-poll).
   */
  async endSession(
    session: Session,
    leases: 'counted' | 'uncounted' | 'keep',
    close?: { code: number; reason: string },
  ): Promise<void> {
    if (session.state === 'disconnecting' || session.state === 'disconnected') return;
    session.state = 'disconnecting';
    this.#sessions.delete(session.id);
    const channel = this.#channels.get(session.channel);
    if (channel !== undefined) {
      const index = channel.sessions.indexOf(session);
      if (index !== -1) channel.sessions.splice(index, 1);
    }
    if (close !== undefined) {
      try {
        session.transport.close(close.code, close.reason);
      } catch {
        // the transport is already gone
      }
    }
    if (leases !== 'keep' && session.inFlight.size > 0 && this.#buffer !== undefined) {
      const ids = [...session.inFlight.keys()];
      session.inFlight.clear();
      try {
        await this.#buffer.release(session.channel, session.id, {
          ids,
          countAttempt: leases === 'counted',
        });
      } catch (error) {
        this.#logger.warn(
          { connection_id: session.id, err: error },
          'cannot release leases; they expire after ack_timeout',
        );
      }
    }
    session.state = 'disconnected';
    this.#logger.info(
      { channel: session.channel, connection_id: session.id, protocol: session.protocol },
      'connector disconnected',
    );
  }

  /** Admin force-disconnect and eviction: close with 4004 so the connector reconnects. */
  async evict(session: Session, cause: EvictionCause, reason = 'Evicted'): Promise<void> {
    const counters = this.#channels.get(session.channel)?.counters;
    if (counters !== undefined && session.open) counters.evicted[cause]++;
    await this.endSession(session, 'counted', { code: CLOSE_CODES.EVICTED, reason });
  }

  // --- acks -------------------------------------------------------------------------------------------

  /**
   * Settles ids leased to `connectionId` on `channel` (any instance's connection: ownership is checked
   * by the buffer). Never throws for ids that are not in flight; they get their outcome.
   */
  async settle(
    name: string,
    connectionId: string,
    frame: Exclude<ParsedClientFrame, { type: 'heartbeat' }>,
  ): Promise<IdOutcome[]> {
    const buffer = this.#requireBuffer();
    const channel = this.#channels.get(name);
    if (channel === undefined) throw channelNotFoundError(name);
    let results: IdOutcome[];
    if (frame.type === 'ack') {
      results = (await buffer.ack(name, connectionId, frame.messageIds)).map((r) => ({
        message_id: r.id,
        outcome: r.outcome,
      }));
    } else {
      const options: NackOptions = {
        retry: frame.retry,
        ...(frame.delaySeconds === undefined ? {} : { delaySeconds: frame.delaySeconds }),
        ...(frame.error === undefined ? {} : { reason: frame.error }),
      };
      results = (
        await Promise.all(frame.messageIds.map((id) => buffer.nack(name, connectionId, id, options)))
      ).map((r) => ({
        message_id: r.id,
        outcome: r.outcome,
        ...(r.state === undefined ? {} : { state: r.state }),
      }));
    }
    const counters = channel.counters;
    for (const result of results) {
      if (result.outcome !== 'ok') continue;
      if (frame.type === 'ack') counters.acked++;
      else if (result.state === 'dead') counters.nackedDead++;
      else counters.nackedRetry++;
    }
    const session = this.#sessions.get(connectionId);
    if (session !== undefined) {
      session.lastSettledAt = this.#now();
      session.settled(
        results.filter((r) => r.outcome === 'ok').map((r) => r.message_id),
        frame.type,
      );
      this.#pump(channel);
    }
    return results;
  }

  // --- the pump ---------------------------------------------------------------------------------------

  #pump(channel: Channel): void {
    if (channel.pumping) {
      channel.again = true;
      return;
    }
    if (this.#buffer === undefined || this.#closed) return;
    channel.pumping = true;
    void this.#pumpLoop(channel, this.#buffer).finally(() => {
      channel.pumping = false;
    });
  }

  async #pumpLoop(channel: Channel, buffer: MessageBuffer): Promise<void> {
    try {
      do {
        channel.again = false;
        if (channel.declareFailed) return;
        const ready = channel.sessions.filter((session) => session.capacity() > 0);
        if (ready.length === 0) return;
        const start = channel.rr++ % ready.length;
        const order = [...ready.slice(start), ...ready.slice(0, start)];
        const leaseMs = channel.definition.config.ack_timeout_seconds * 1000;
        const leaseFor = async (session: Session): Promise<boolean> => {
          const want = Math.min(session.capacity(), LEASE_BATCH_MAX);
          if (want === 0) return false;
          const messages = await buffer.lease(channel.name, session.id, want, leaseMs);
          if (messages.length === 0) return false;
          const now = this.#now();
          channel.counters.delivered[session.protocol] += messages.length;
          if (!session.deliver(messages, now + leaseMs, now)) {
            for (const message of messages) session.inFlight.delete(message.id);
            await buffer.release(channel.name, session.id, {
              ids: messages.map((message) => message.id),
              countAttempt: false,
            });
            if (session.open) void this.endSession(session, 'counted');
            return false;
          }
          return messages.length === want;
        };
        // The first session leases alone: a short batch means nothing more is due on the channel right
        // now (a lease does not depend on the consumer), so the others are not asked. Otherwise every pump
        // (each new session, each ack, each sweep) cost one lease per idle session: quadratic in sessions.
        const [first, ...rest] = order as [Session, ...Session[]];
        if (!(await leaseFor(first))) continue;
        channel.again = true;
        await Promise.all(rest.map(leaseFor));
      } while (channel.again && !this.#closed);
    } catch (error) {
      const now = this.#now();
      if (now - this.#lastPumpErrorLogAt > 10_000) {
        this.#lastPumpErrorLogAt = now;
        this.#logger.warn({ channel: channel.name, err: error }, 'cannot lease messages; retrying');
      }
    }
  }

  // --- the sweep ----------------------------------------------------------------------------------------

  #sweep(): void {
    if (this.#closed || this.#buffer === undefined) return;
    const buffer = this.#buffer;
    const now = this.#now();
    for (const channel of this.#channels.values()) {
      if (channel.declareFailed) {
        this.#declare(channel);
        continue;
      }
      const config = channel.definition.config;
      const intervalMs = config.heartbeat_interval_seconds * 1000;
      for (const session of [...channel.sessions]) {
        if (!session.open) continue;
        const expired = session.dropExpired(now);
        if (
          session.protocol === 'websocket' &&
          now - session.lastHeartbeatAt > HEARTBEAT_MISSES * intervalMs
        ) {
          this.#logger.warn(
            { channel: channel.name, connection_id: session.id },
            'connector missed its heartbeats; evicting',
          );
          void this.evict(session, 'heartbeat');
          continue;
        }
        // An SSE connector cannot send heartbeats; its acks are its sign of life. One that lets leases
        // expire without settling anything here for a whole ack_timeout may be gone (a half-open
        // connection) or stuck: left connected, it would keep taking messages and burn their attempts.
        if (
          session.protocol === 'sse' &&
          expired.length > 0 &&
          now - session.lastSettledAt >= config.ack_timeout_seconds * 1000
        ) {
          void this.#evictIfSilent(session, expired);
        }
        if (session.protocol !== 'long_poll' && now - session.lastServerHeartbeatAt >= intervalMs) {
          session.lastServerHeartbeatAt = now;
          const timestamp = new Date(now).toISOString();
          if (!session.transport.send({ type: 'heartbeat', timestamp, server_time: timestamp }))
            void this.endSession(session, 'counted');
        }
      }
      if (channel.sessions.length > 0) this.#pump(channel);
      if (now - channel.lastReclaimAt >= RECLAIM_INTERVAL_MS) {
        channel.lastReclaimAt = now;
        buffer.reclaimExpired(channel.name).catch(() => {});
      }
    }
  }

  /**
   * Evicts an SSE session whose expired leases the buffer still holds for it: the connector never
   * settled them anywhere. Acks can reach another instance (connection ids carry their channel), so an
   * expired lease that is gone from the buffer is no sign of silence. The still-held ones go back now,
   * counted, as the buffer's reclaim would do.
   */
  async #evictIfSilent(session: Session, expired: readonly string[]): Promise<void> {
    const buffer = this.#buffer;
    if (buffer === undefined) return;
    let unsettled: number;
    try {
      const results = await buffer.release(session.channel, session.id, { ids: expired, countAttempt: true });
      unsettled = results.filter((result) => result.outcome === 'ok').length;
    } catch {
      return; // the buffer is unreachable: decide at a later sweep
    }
    if (unsettled === 0 || !session.open) return;
    this.#logger.warn(
      { channel: session.channel, connection_id: session.id, expired_leases: unsettled },
      'SSE connector let its leases expire without acknowledging anything; evicting',
    );
    await this.evict(session, 'unacked_leases');
  }

  // --- health and shutdown ----------------------------------------------------------------------------

  async health(): Promise<BufferHealth> {
    if (this.#buffer === undefined) return { ok: false, backend: 'none', detail: 'not started' };
    try {
      return await this.#buffer.health();
    } catch {
      return { ok: false, backend: this.#buffer.kind, detail: 'health check failed' };
    }
  }

  /**
   * Shutdown, first step: refuses new sessions and ends every session (WebSocket 1001, SSE streams end,
   * pending polls answer); leases go back without counting an attempt. Publishing keeps working, so
   * requests in progress can still be stored before the buffer closes.
   */
  async closeSessions(): Promise<void> {
    this.#draining = true;
    const sessions = [...this.#sessions.values()];
    await Promise.all(
      sessions.map((session) =>
        this.endSession(session, session.protocol === 'long_poll' ? 'keep' : 'uncounted', {
          code: CLOSE_CODES.GOING_AWAY,
          reason: 'Server shutting down',
        }),
      ),
    );
  }

  /** Ends every session (see `closeSessions`), then closes the buffer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.closeSessions();
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const channel of this.#channels.values()) channel.unwatch();
    await this.#buffer?.close();
  }
}

/** Whether a reload changed what a channel is (its settings or the webhooks feeding it). */
function sameDefinition(a: ChannelDefinition, b: ChannelDefinition): boolean {
  return (
    JSON.stringify(a.config) === JSON.stringify(b.config) &&
    JSON.stringify(a.webhookIds) === JSON.stringify(b.webhookIds)
  );
}

const CONNECTION_ID = /^(wsc|sse|poll)_([0-9a-f]{16})_([A-Za-z0-9_-]+)$/;
const PREFIX: Record<SessionProtocol, string> = { websocket: 'wsc', sse: 'sse', long_poll: 'poll' };

/** `wsc_…`, `sse_…`, `poll_…`: random, and carrying the channel so any instance can route an ack. */
export function newConnectionId(protocol: SessionProtocol, channel: string): string {
  return `${PREFIX[protocol]}_${randomBytes(8).toString('hex')}_${Buffer.from(channel).toString('base64url')}`;
}

/** The channel a connection id belongs to, or undefined for ids this relay never issued. */
export function channelOfConnectionId(id: string): string | undefined {
  const match = CONNECTION_ID.exec(id);
  if (match === null) return undefined;
  const channel = Buffer.from(match[3] as string, 'base64url').toString('utf8');
  return isValidChannelName(channel) ? channel : undefined;
}

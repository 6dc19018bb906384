/**
 * The local connector: one `StreamClient` (client.ts) to the relay, one delivery mode (HTTP targets or
 * output modules), and the flow control between them.
 *
 * For each webhook frame:
 * 1. Its id is in the dedup window (the first delivery succeeded but its ack may have been lost) → it is
 *    acked again and the target is not called again.
 * 2. Shutting down → held, and nacked with retry when the connection closes (see below).
 * 3. The same id is being delivered right now (redelivered after a reconnect) → nothing: the running
 *    delivery's ack goes out on the current connection.
 * 4. Otherwise it joins the work pool: at most `max_concurrent_requests` deliveries run, the rest wait in
 *    arrival order (never dropped).
 * After the delivery: success → remember in the dedup window, ack; permanent → nack without retry with
 * the reason (not remembered: a dead letter replayed after the target was fixed must reach it again); transient → nack with retry and the reason; aborted (shutdown) → nack with retry.
 * One log line per delivery: webhook id, message id, target, status, ms.
 *
 * Shutdown (`stop`): messages that wait and frames that still arrive are held (not delivered); running
 * deliveries get `shutdown_timeout` seconds, then they are aborted and nacked; then every held message is
 * nacked with retry once and the connection is closed. (Nacking held messages at once would make a relay
 * that requeues immediately send them straight back, in a loop, for the whole grace period.)
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '../observability/logger.js';
import type { WebhookFrame } from '../protocol/frames.js';
import { StreamClient, type ConnectionState } from './client.js';
import { describeConfig, type ConnectorConfig } from './config.js';
import type { Delivery, DeliveryOutcome } from './delivery.js';
import { ExpiringMap, WorkPool } from './flow.js';
import { createHttpDelivery } from './http-delivery.js';
import { createConnectorMetrics, type ConnectorMetrics } from './metrics.js';
import { startStatusServer, type StatusServer } from './status-server.js';
import { cloudTlsOptions, createAgents, type Agents } from './tls.js';
import { openLongPoll } from './transports/long-poll.js';
import { openSse } from './transports/sse.js';
import type { OpenTransport } from './transports/types.js';
import { openWebSocket } from './transports/websocket.js';

const TRANSPORTS: Readonly<Record<ConnectorConfig['protocol'], OpenTransport>> = {
  websocket: openWebSocket,
  sse: openSse,
  long_poll: openLongPoll,
};

export interface ConnectorOptions {
  readonly logger: Logger;
  /** Environment for `{$VAR}` in module-mode files. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides the delivery mode (tests). Default: from the config. */
  readonly delivery?: Delivery;
  /** Collect Node's default process metrics. Default true. */
  readonly defaultMetrics?: boolean;
  /** Random source for reconnect jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** What the dedup window remembers of a message: it was delivered (only successes are remembered). */
type Remembered = { readonly result: 'success' };

export interface ConnectorStatus {
  readonly healthy: boolean;
  readonly state: ConnectionState;
  readonly connection_id: string | null;
  readonly uptime_seconds: number;
  readonly deliveries_running: number;
  readonly deliveries_waiting: number;
  readonly reconnects: number;
  readonly config: Record<string, unknown>;
}

export class Connector {
  readonly config: ConnectorConfig;
  readonly metrics: ConnectorMetrics;
  readonly #logger: Logger;
  readonly #delivery: Delivery;
  readonly #pool: WorkPool;
  readonly #dedup: ExpiringMap<Remembered>;
  readonly #seen: ExpiringMap<number>;
  readonly #inProgress = new Set<string>();
  /** Messages waiting for a slot, by id. */
  readonly #queued = new Map<string, WebhookFrame>();
  /** Messages held during shutdown, nacked just before the connection closes. */
  readonly #held = new Map<string, WebhookFrame>();
  readonly #abort = new AbortController();
  readonly #agents: Agents;
  readonly #client: StreamClient;
  #status: StatusServer | undefined;
  #draining = false;
  #startedAt = 0;
  #stopping: Promise<void> | undefined;

  /** Builds a connector; module mode loads and validates its files here (throws `ConfigError`). */
  static async create(config: ConnectorConfig, options: ConnectorOptions): Promise<Connector> {
    let delivery = options.delivery;
    if (delivery === undefined) {
      if (config.delivery_mode === 'module') {
        const { createModuleDelivery } = await import('./module-delivery.js');
        delivery = await createModuleDelivery(config, {
          logger: options.logger,
          env: options.env ?? process.env,
        });
      } else delivery = createHttpDelivery(config);
    }
    return new Connector(config, delivery, options);
  }

  private constructor(config: ConnectorConfig, delivery: Delivery, options: ConnectorOptions) {
    this.config = config;
    this.#logger = options.logger;
    this.#delivery = delivery;
    this.#pool = new WorkPool(config.max_concurrent_requests);
    // Every running delivery (and its retry sleep) listens on this signal and removes its listener when
    // it ends; with more than 10 concurrent deliveries node would warn about a leak that is not one.
    setMaxListeners(0, this.#abort.signal);
    const ttl = config.dedup_window_seconds * 1000;
    this.#dedup = new ExpiringMap(config.dedup_window_size, ttl);
    this.#seen = new ExpiringMap(Math.max(config.dedup_window_size, 1000), ttl);
    this.metrics = createConnectorMetrics(
      { running: () => this.#pool.running, waiting: () => this.#pool.waiting },
      options.defaultMetrics ?? true,
    );
    this.#agents = createAgents(cloudTlsOptions(config), 16);
    this.#client = new StreamClient({
      config,
      open: TRANSPORTS[config.protocol],
      context: {
        config,
        tls: cloudTlsOptions(config),
        agents: this.#agents,
        logger: options.logger,
        waitForCapacity: (signal) => this.#pool.waitForCapacity(signal),
      },
      logger: options.logger,
      onWebhook: (frame) => this.#onWebhook(frame),
      onState: (state) => this.metrics.state(state),
      onReconnect: (end) => this.metrics.reconnect(end.reason),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  /** Connects (and keeps reconnecting) in the background; starts the status server when configured. */
  async start(): Promise<void> {
    if (this.#startedAt !== 0) return;
    this.#startedAt = Date.now();
    this.#logger.info(describeConfig(this.config), 'connector starting');
    if (this.config.status_port != null) {
      this.#status = await startStatusServer(
        { health: () => this.status(), registry: this.metrics.registry },
        this.config.status_host,
        this.config.status_port,
      );
      this.#logger.info({ url: this.#status.url }, 'status server listening (/health, /metrics)');
    }
    void this.#client.start();
  }

  /** URL of the status server, when it runs. */
  get statusUrl(): string | undefined {
    return this.#status?.url;
  }

  get state(): ConnectionState {
    return this.#client.state;
  }

  status(): ConnectorStatus {
    return {
      healthy: this.#client.state === 'connected',
      state: this.#client.state,
      connection_id: this.#client.connectionId ?? null,
      uptime_seconds: this.#startedAt === 0 ? 0 : Math.round((Date.now() - this.#startedAt) / 1000),
      deliveries_running: this.#pool.running,
      deliveries_waiting: this.#pool.waiting,
      reconnects: this.#client.reconnects,
      config: describeConfig(this.config),
    };
  }

  /**
   * Graceful stop: nack what waits, give running deliveries up to `timeoutSeconds` (default
   * `shutdown_timeout`), abort and nack the rest, close the connection. Idempotent.
   */
  stop(timeoutSeconds = this.config.shutdown_timeout): Promise<void> {
    this.#stopping ??= this.#shutdown(timeoutSeconds);
    return this.#stopping;
  }

  /** Aborts running deliveries now (they are nacked with retry); used on a second signal. */
  abortDeliveries(): void {
    this.#abort.abort(new Error('connector shutting down'));
  }

  async #shutdown(timeoutSeconds: number): Promise<void> {
    this.#draining = true;
    const waiting = this.#pool.takeWaiting();
    for (const frame of this.#queued.values()) this.#held.set(frame.message_id, frame);
    this.#queued.clear();
    this.#logger.info(
      { running: this.#pool.running, waiting: waiting.length, timeout_seconds: timeoutSeconds },
      'connector stopping: finishing deliveries in progress',
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutSeconds * 1000);
    });
    await Promise.race([this.#pool.idle(), deadline]);
    clearTimeout(timer);
    if (this.#pool.running > 0) {
      this.#logger.warn({ running: this.#pool.running }, 'shutdown deadline reached: aborting deliveries');
      this.#abort.abort(new Error('connector shutting down'));
      await this.#pool.idle();
    }
    const held = [...this.#held.values()];
    this.#held.clear();
    await Promise.all(
      held.map((frame) => this.#nack(frame, { retry: true, error: 'connector shutting down' })),
    );
    await this.#client.stop();
    await this.#delivery.close();
    this.#agents.destroy();
    await this.#status?.close();
    this.#logger.info('connector stopped');
  }

  #onWebhook(frame: WebhookFrame): void {
    const id = frame.message_id;
    const seen = (this.#seen.get(id) ?? 0) + 1;
    this.#seen.set(id, seen);
    const remembered = this.#dedup.get(id);
    if (remembered !== undefined) {
      this.metrics.duplicate();
      this.#logger.info(
        { webhook_id: frame.webhook_id, message_id: id, result: remembered.result },
        'redelivered message already handled: answering again without delivering',
      );
      void this.#ack(frame);
      return;
    }
    if (this.#draining) {
      if (!this.#inProgress.has(id)) this.#held.set(id, frame);
      return;
    }
    if (this.#inProgress.has(id)) {
      this.#logger.debug({ message_id: id }, 'redelivered message is being delivered already');
      return;
    }
    this.#inProgress.add(id);
    const deliveryCount = typeof frame.delivery_count === 'number' ? frame.delivery_count : seen;
    this.#queued.set(id, frame);
    this.#pool.push(async () => {
      this.#queued.delete(id);
      await this.#process(frame, deliveryCount);
    });
  }

  async #process(frame: WebhookFrame, deliveryCount: number): Promise<void> {
    const started = performance.now();
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.#delivery.deliver(frame, { deliveryCount, signal: this.#abort.signal });
    } catch (error) {
      outcome = {
        result: 'transient',
        target: '-',
        attempts: 0,
        reason: `connector error: ${(error as Error).message}`,
      };
    }
    const ms = Math.round(performance.now() - started);
    this.metrics.delivery(outcome.result, ms / 1000);
    const line = {
      webhook_id: frame.webhook_id,
      message_id: frame.message_id,
      target: outcome.target,
      status: outcome.status ?? null,
      ms,
      result: outcome.result,
      attempts: outcome.attempts,
      delivery_count: deliveryCount,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    };
    if (outcome.result === 'success') this.#logger.info(line, 'delivered');
    else this.#logger.warn(line, 'delivery failed');

    switch (outcome.result) {
      case 'success':
        this.#dedup.set(frame.message_id, { result: 'success' });
        this.#inProgress.delete(frame.message_id);
        await this.#ack(frame);
        break;
      case 'permanent': {
        const reason = outcome.reason ?? 'permanent failure';
        this.#inProgress.delete(frame.message_id);
        await this.#nack(frame, { retry: false, error: reason });
        break;
      }
      default:
        this.#inProgress.delete(frame.message_id);
        await this.#nack(frame, { retry: true, error: outcome.reason ?? outcome.result });
    }
  }

  async #ack(frame: WebhookFrame): Promise<void> {
    if (!(await this.#client.ack(frame.message_id))) this.#ackLost(frame, 'ack');
  }

  async #nack(frame: WebhookFrame, options: { retry: boolean; error: string }): Promise<void> {
    if (!(await this.#client.nack(frame.message_id, options))) this.#ackLost(frame, 'nack');
  }

  #ackLost(frame: WebhookFrame, kind: string): void {
    this.metrics.ackFailed();
    this.#logger.warn(
      { message_id: frame.message_id, kind },
      `${kind} not delivered to the relay; it will redeliver the message and the dedup window answers it`,
    );
  }
}

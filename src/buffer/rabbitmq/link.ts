/**
 * The broker connection of one buffer, and its reconnect state machine.
 *
 * States: `connecting` → `up` → `down` → `connecting` … → `closed`. `start` makes one attempt and
 * returns either way; while the link is not `up`, operations fail at once with `WC_BUFFER_UNAVAILABLE`
 * (fail fast: the publisher gets its 503 + `Retry-After` without waiting) and a timer retries with
 * backoff (`reconnectMinMs` doubling to `reconnectMaxMs`). Any unexpected close of the connection or of
 * one of its channels takes the whole link `down`: the broker returns every unacked delivery to its
 * queue, so the buffer forgets what it held (the `generation` changes) and the `onUp` hook re-declares
 * the topology after the next successful connect.
 *
 * AMQP channels per connection: `pub` (confirm mode, publishes only), `work` (the ready-queue consumers,
 * basic.get and acks of the deliveries the buffer holds), `aux` (declarations, counts, peeks) and
 * `TALLY_CHANNELS` `tally` channels (count-token removal: amqplib runs one RPC at a time per channel,
 * so the `basic.get`s of one ack batch run side by side on these).
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../../observability/logger.js';
import { bufferUnavailableError } from '../errors.js';

export interface LinkChannels {
  readonly conn: ChannelModel;
  readonly pub: ConfirmChannel;
  readonly work: Channel;
  readonly aux: Channel;
  /** Count-token removal (`basic.get` with `noAck`), spread over these. */
  readonly tally: readonly Channel[];
  /** Changes on every (re)connect; deliveries of an older generation are gone. */
  readonly generation: number;
}

/** Channels for count-token removal per connection. */
export const TALLY_CHANNELS = 4;

export interface LinkOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Runs after each connect, before the link is `up` (declare queues, bind the wake queue). */
  readonly onUp: (channels: LinkChannels) => Promise<void>;
  /** Runs when an established link goes down (forget held deliveries). */
  readonly onDown: () => void;
}

export class AmqpLink {
  readonly #options: LinkOptions;
  #current: LinkChannels | undefined;
  #generation = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #lastError = 'not connected yet';

  constructor(options: LinkOptions) {
    this.#options = options;
    this.#delay = options.reconnectMinMs;
  }

  /** One connect attempt; on failure the reconnect timer takes over. Never throws. */
  async start(): Promise<void> {
    await this.#attempt();
  }

  get up(): boolean {
    return this.#current !== undefined;
  }

  get lastError(): string {
    return this.#lastError;
  }

  /** The live channels, or `WC_BUFFER_UNAVAILABLE` at once when the broker is not reachable. */
  channels(): LinkChannels {
    const current = this.#current;
    if (current === undefined) {
      throw bufferUnavailableError(new Error(this.#closed ? 'buffer closed' : this.#lastError));
    }
    return current;
  }

  /** Closes the connection for good (unacked deliveries go back to their queues). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const current = this.#current;
    this.#current = undefined;
    if (current === undefined) return;
    // Channels first: RabbitMQ handles each channel in its own process, and only a channel's close-ok
    // proves that the acks sent on it were applied (a connection close can overtake them).
    for (const channel of [current.work, current.aux, ...current.tally, current.pub]) {
      await channel.close().catch(() => undefined);
    }
    await current.conn.close().catch(() => undefined);
  }

  /**
   * Cuts the TCP connection without any AMQP goodbye, as a crash or a network failure would. The link
   * goes `down` and reconnects by itself (unless closed).
   */
  drop(): void {
    const current = this.#current;
    if (current === undefined) return;
    const stream = (current.conn.connection as unknown as { stream?: { destroy(error?: Error): void } })
      .stream;
    stream?.destroy(new Error('connection dropped'));
  }

  /** `drop` for good: no reconnect, no AMQP goodbye (a killed process). */
  abandon(): void {
    this.drop();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#current = undefined;
  }

  async #attempt(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    let conn: ChannelModel | undefined;
    try {
      // noDelay: without it Nagle holds a frame written after one still unacknowledged by the broker
      // (a basic.get after a basic.ack), and the broker's delayed TCP ack makes that a 40 ms stall.
      conn = await amqp.connect(this.#options.url, {
        timeout: this.#options.connectTimeoutMs,
        noDelay: true,
      });
      const generation = ++this.#generation;
      const down = (error?: Error) => this.#down(generation, error);
      conn.on('error', () => undefined); // 'close' follows and carries the decision
      conn.on('close', down);
      const pub = await conn.createConfirmChannel();
      const work = await conn.createChannel();
      const aux = await conn.createChannel();
      const tally: Channel[] = [];
      for (let i = 0; i < TALLY_CHANNELS; i++) tally.push(await conn.createChannel());
      for (const channel of [pub, work, aux, ...tally]) {
        channel.on('error', () => undefined);
        channel.on('close', () => down(new Error('AMQP channel closed')));
      }
      const channels: LinkChannels = { conn, pub, work, aux, tally, generation };
      await this.#options.onUp(channels);
      if (this.#closed || generation !== this.#generation) {
        await conn.close().catch(() => undefined);
        return;
      }
      this.#current = channels;
      this.#delay = this.#options.reconnectMinMs;
      this.#options.logger.info('rabbitmq buffer: connected');
    } catch (error) {
      this.#lastError = `broker unreachable: ${describe(error)}`;
      this.#options.logger.warn({ err: describe(error) }, 'rabbitmq buffer: connect failed');
      if (conn !== undefined) await conn.close().catch(() => undefined);
      this.#schedule();
    }
  }

  #down(generation: number, error?: Error): void {
    if (generation !== this.#generation) return;
    this.#generation++; // a second close event of the same connection is ignored
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) {
      this.#lastError = `broker connection lost: ${describe(error)}`;
      this.#options.logger.warn({ err: describe(error) }, 'rabbitmq buffer: connection lost');
      current.conn.close().catch(() => undefined);
      this.#options.onDown();
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#options.reconnectMaxMs);
    this.#timer = setTimeout(() => void this.#attempt(), delay);
    this.#timer.unref();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? 'closed');
}

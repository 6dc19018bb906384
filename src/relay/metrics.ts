/**
 * Webhook Connect metrics on the receiver's `/metrics` registry. Everything is read at scrape time —
 * this instance's counters from the channel service, queue figures from the buffer — so delivery paths
 * only increment numbers. Labels are bounded: channels come from configuration, protocols, results,
 * causes and states are fixed sets, and refusal codes come from the error catalogue.
 *
 * | metric | type | labels | source |
 * | --- | --- | --- | --- |
 * | `webhook_connect_buffer_up` | gauge | `backend` | buffer health check |
 * | `webhook_connect_connections` | gauge | `channel`, `protocol` | sessions on this instance |
 * | `webhook_connect_in_flight` | gauge | `channel` | unacked messages of this instance's sessions |
 * | `webhook_connect_queue_messages` | gauge | `channel`, `state` = available, leased, dead | buffer (every instance) |
 * | `webhook_connect_buffer_acked_total` | counter | `channel` | buffer (durable, every instance) |
 * | `webhook_connect_buffer_expired_total` | counter | `channel` | buffer (durable, every instance) |
 * | `webhook_connect_published_total` | counter | `channel` | this instance |
 * | `webhook_connect_publish_refused_total` | counter | `channel`, `code` | this instance |
 * | `webhook_connect_delivered_total` | counter | `channel`, `protocol` | this instance (frames sent) |
 * | `webhook_connect_settled_total` | counter | `channel`, `result` = acked, nacked_retry, nacked_dead | this instance |
 * | `webhook_connect_evictions_total` | counter | `channel`, `cause` = heartbeat, unacked_leases, admin | this instance |
 *
 * The buffer is asked once per scrape (stats per channel, bounded by {@link BUFFER_READ_TIMEOUT_MS});
 * when it cannot answer, its figures are left out of that scrape and `webhook_connect_buffer_up` is 0.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChannelStats } from '../buffer/types.js';
import type { ChannelCounters, RelayService } from './service.js';

/** A scrape waits this long for the buffer's figures. */
export const BUFFER_READ_TIMEOUT_MS = 2000;

interface BufferFigures {
  readonly up: boolean;
  readonly backend: string;
  readonly stats: ReadonlyMap<string, ChannelStats>;
}

export function registerRelayMetrics(registry: Registry, service: RelayService): void {
  // One buffer read per scrape: prom-client starts every collector of a scrape in the same turn of the
  // event loop, so the read is shared until the next turn.
  let pending: Promise<BufferFigures> | undefined;
  const bufferFigures = (): Promise<BufferFigures> => {
    if (pending === undefined) {
      pending = readBuffer(service);
      setImmediate(() => (pending = undefined));
    }
    return pending;
  };
  const eachChannel = (read: (name: string, counters: Readonly<ChannelCounters>) => void) => {
    for (const name of service.channelNames()) {
      const counters = service.counters(name);
      if (counters !== undefined) read(name, counters);
    }
  };
  const registers = [registry];

  new Gauge({
    name: 'webhook_connect_buffer_up',
    help: 'Whether the Webhook Connect buffer answers its health check (1) or not (0).',
    labelNames: ['backend'] as const,
    registers,
    async collect() {
      if (!service.running) return;
      const figures = await bufferFigures();
      this.reset();
      this.set({ backend: figures.backend }, figures.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'webhook_connect_connections',
    help: 'Connector sessions attached to this instance.',
    labelNames: ['channel', 'protocol'] as const,
    registers,
    collect() {
      this.reset();
      for (const name of service.channelNames()) {
        const perProtocol = { websocket: 0, sse: 0, long_poll: 0 };
        for (const session of service.sessions(name)) perProtocol[session.protocol]++;
        for (const [protocol, count] of Object.entries(perProtocol))
          this.set({ channel: name, protocol }, count);
      }
    },
  });
  new Gauge({
    name: 'webhook_connect_in_flight',
    help: "Messages sent to this instance's sessions and not yet settled.",
    labelNames: ['channel'] as const,
    registers,
    collect() {
      this.reset();
      for (const name of service.channelNames()) {
        let inFlight = 0;
        for (const session of service.sessions(name)) inFlight += session.inFlight.size;
        this.set({ channel: name }, inFlight);
      }
    },
  });
  new Gauge({
    name: 'webhook_connect_queue_messages',
    help: 'Messages stored for the channel, by state (all instances sharing the buffer).',
    labelNames: ['channel', 'state'] as const,
    registers,
    async collect() {
      const { stats } = await bufferFigures();
      this.reset();
      for (const [channel, figures] of stats) {
        this.set({ channel, state: 'available' }, figures.available);
        this.set({ channel, state: 'leased' }, figures.leased);
        this.set({ channel, state: 'dead' }, figures.dead);
      }
    },
  });
  for (const [name, field, help] of [
    ['webhook_connect_buffer_acked_total', 'acked_total', 'Messages ever acked (durable, all instances).'],
    [
      'webhook_connect_buffer_expired_total',
      'expired_total',
      'Messages ever dead-lettered as expired (durable, all instances).',
    ],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ['channel'] as const,
      registers,
      async collect() {
        const { stats } = await bufferFigures();
        this.reset();
        for (const [channel, figures] of stats) this.inc({ channel }, figures[field]);
      },
    });
  }
  new Counter({
    name: 'webhook_connect_published_total',
    help: 'Webhooks this instance stored in the buffer.',
    labelNames: ['channel'] as const,
    registers,
    collect() {
      this.reset();
      eachChannel((channel, counters) => this.inc({ channel }, counters.published));
    },
  });
  new Counter({
    name: 'webhook_connect_publish_refused_total',
    help: 'Webhooks this instance could not store, by error code (answered 503).',
    labelNames: ['channel', 'code'] as const,
    registers,
    collect() {
      this.reset();
      eachChannel((channel, counters) => {
        for (const [code, count] of counters.refused) this.inc({ channel, code }, count);
      });
    },
  });
  new Counter({
    name: 'webhook_connect_delivered_total',
    help: "Webhook frames sent to this instance's sessions, by protocol.",
    labelNames: ['channel', 'protocol'] as const,
    registers,
    collect() {
      this.reset();
      eachChannel((channel, counters) => {
        for (const [protocol, count] of Object.entries(counters.delivered))
          this.inc({ channel, protocol }, count);
      });
    },
  });
  new Counter({
    name: 'webhook_connect_settled_total',
    help: 'Acks and nacks this instance applied, by result.',
    labelNames: ['channel', 'result'] as const,
    registers,
    collect() {
      this.reset();
      eachChannel((channel, counters) => {
        this.inc({ channel, result: 'acked' }, counters.acked);
        this.inc({ channel, result: 'nacked_retry' }, counters.nackedRetry);
        this.inc({ channel, result: 'nacked_dead' }, counters.nackedDead);
      });
    },
  });
  new Counter({
    name: 'webhook_connect_evictions_total',
    help: 'Connector sessions this instance evicted, by cause.',
    labelNames: ['channel', 'cause'] as const,
    registers,
    collect() {
      this.reset();
      eachChannel((channel, counters) => {
        for (const [cause, count] of Object.entries(counters.evicted)) this.inc({ channel, cause }, count);
      });
    },
  });
}

async function readBuffer(service: RelayService): Promise<BufferFigures> {
  const buffer = service.buffer;
  if (buffer === undefined || !service.running) return { up: false, backend: 'none', stats: new Map() };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), BUFFER_READ_TIMEOUT_MS);
  });
  try {
    const read = async (): Promise<BufferFigures> => {
      const health = await buffer.health();
      if (!health.ok) return { up: false, backend: buffer.kind, stats: new Map() };
      const stats = new Map<string, ChannelStats>();
      await Promise.all(
        service.channelNames().map(async (name) => stats.set(name, await buffer.stats(name))),
      );
      return { up: true, backend: buffer.kind, stats };
    };
    return await Promise.race([read(), deadline]);
  } catch {
    return { up: false, backend: buffer.kind, stats: new Map() };
  } finally {
    clearTimeout(timer);
  }
}

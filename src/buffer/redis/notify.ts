/**
 * Cross-instance wake-up hints over Redis Pub/Sub. After a write that may make messages available
 * (append, a retry due at once, release, replay, reclaim) the instance publishes its id on the channel's
 * notify topic, at most once per event-loop turn per channel; other instances subscribed to that topic
 * (because a local session watches the channel) wake their watchers. A hint is best effort: a lost one
 * only delays delivery until the session's own sweep timer.
 */
import type { Redis } from 'ioredis';

export class RemoteHints {
  readonly #publisher: Redis;
  readonly #openSubscriber: () => Redis;
  readonly #instanceId: string;
  readonly #onHint: (channel: string) => void;
  /** notify topic → [channel, number of local watchers]. */
  readonly #topics = new Map<string, { channel: string; watchers: number }>();
  readonly #pending = new Set<string>();
  #subscriber: Redis | undefined;
  #scheduled = false;
  #closed = false;

  constructor(
    publisher: Redis,
    openSubscriber: () => Redis,
    instanceId: string,
    onHint: (channel: string) => void,
  ) {
    this.#publisher = publisher;
    this.#openSubscriber = openSubscriber;
    this.#instanceId = instanceId;
    this.#onHint = onHint;
  }

  /** Subscribes to a channel's topic while at least one local watcher exists; returns the release. */
  watch(topic: string, channel: string): () => void {
    const entry = this.#topics.get(topic);
    if (entry !== undefined) entry.watchers++;
    else {
      this.#topics.set(topic, { channel, watchers: 1 });
      this.#subscriberClient()
        .subscribe(topic)
        .catch(() => undefined); // resubscribed on reconnect (autoResubscribe)
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const current = this.#topics.get(topic);
      if (current === undefined || --current.watchers > 0) return;
      this.#topics.delete(topic);
      this.#subscriber?.unsubscribe(topic).catch(() => undefined);
    };
  }

  /** Publishes a hint for the topic on the next turn (coalesced). */
  publish(topic: string): void {
    if (this.#closed) return;
    this.#pending.add(topic);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const topics = [...this.#pending];
      this.#pending.clear();
      if (this.#closed) return;
      for (const t of topics) this.#publisher.publish(t, this.#instanceId).catch(() => undefined);
    });
  }

  close(): void {
    this.#closed = true;
    this.#topics.clear();
    this.#pending.clear();
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }

  #subscriberClient(): Redis {
    if (this.#subscriber !== undefined) return this.#subscriber;
    const subscriber = this.#openSubscriber();
    subscriber.on('message', (topic: string, from: string) => {
      if (from === this.#instanceId) return; // our own writes already woke our watchers
      const entry = this.#topics.get(topic);
      if (entry !== undefined) this.#onHint(entry.channel);
    });
    this.#subscriber = subscriber;
    return subscriber;
  }
}

/** In-process "messages may be available" listeners per channel, notified once per tick at most. */

export class ChannelWatchers {
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #pending = new Set<string>();
  #scheduled = false;

  watch(channel: string, listener: () => void): () => void {
    let set = this.#listeners.get(channel);
    if (set === undefined) this.#listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(channel) === set) this.#listeners.delete(channel);
    };
  }

  /** Schedules one notification of the channel's listeners on the next tick. */
  notify(channel: string): void {
    if (!this.#listeners.has(channel)) return;
    this.#pending.add(channel);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  clear(): void {
    this.#listeners.clear();
    this.#pending.clear();
  }

  #flush(): void {
    this.#scheduled = false;
    const channels = [...this.#pending];
    this.#pending.clear();
    for (const channel of channels) {
      for (const listener of this.#listeners.get(channel) ?? []) {
        try {
          listener();
        } catch {
          // A listener's failure is its own; the others still run.
        }
      }
    }
  }
}

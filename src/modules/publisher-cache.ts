/**
 * Long-lived publishers, one per (module type, instance config). The cache key is a canonical, sorted
 * serialisation of the instance config in which secret fields and the whole connection are replaced by
 * their sha256, so keys can be logged and compared without revealing secrets.
 *
 * Lifecycle: `acquire` creates on first use (concurrent callers share one creation) and returns the
 * cached publisher afterwards. After a config reload, `retain(keys)` closes every publisher whose key is
 * not among the keys the new config uses. `closeAll()` at shutdown. Closing errors are logged, never thrown.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { ModuleDeps, ModuleDescriptor, ModuleInstanceConfig, Publisher } from './types.js';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level; Buffers as base64; undefined dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortValue(value, new WeakSet()));
}

function sortValue(value: unknown, seen: WeakSet<object>): unknown {
  if (Buffer.isBuffer(value)) return { $buffer: value.toString('base64') };
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
  if (seen.has(value)) throw new TypeError('cannot make a cache key of a cyclic config');
  seen.add(value);
  let result: unknown;
  if (Array.isArray(value)) result = value.map((item) => sortValue(item, seen));
  else {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) sorted[key] = sortValue(item, seen);
    }
    result = sorted;
  }
  seen.delete(value);
  return result;
}

/** The cache key of one publisher. Secret values never appear in it, only their hashes. */
export function publisherKey(descriptor: ModuleDescriptor, config: ModuleInstanceConfig<unknown>): string {
  const secrets = new Set(descriptor.secretFields);
  const moduleConfig: Record<string, unknown> = {};
  if (config.moduleConfig !== null && typeof config.moduleConfig === 'object') {
    for (const [key, value] of Object.entries(config.moduleConfig as Record<string, unknown>)) {
      moduleConfig[key] = secrets.has(key) ? { sha256: sha256(canonicalJson(value)) } : value;
    }
  }
  return canonicalJson({
    type: descriptor.type,
    webhookId: config.webhookId,
    moduleConfig,
    connection: config.connection === undefined ? null : { sha256: sha256(canonicalJson(config.connection)) },
  });
}

export interface PublisherCacheOptions {
  /** Where closing failures are reported. */
  readonly logger: Logger;
}

export class PublisherCache {
  readonly #entries = new Map<string, Promise<Publisher>>();
  readonly #logger: Logger;

  constructor(options: PublisherCacheOptions) {
    this.#logger = options.logger;
  }

  /**
   * The publisher for this module and instance config, created on first use. Returns the key too, so
   * callers can later `retain` it. A failed creation is not cached.
   */
  async acquire<Config>(
    descriptor: ModuleDescriptor<Config>,
    config: ModuleInstanceConfig<Config>,
    deps: ModuleDeps,
  ): Promise<{ key: string; publisher: Publisher }> {
    const key = publisherKey(descriptor as ModuleDescriptor, config);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = Promise.resolve().then(() => descriptor.create(config, deps));
      this.#entries.set(key, entry);
      entry.catch(() => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      });
    }
    return { key, publisher: await entry };
  }

  /** Number of cached (or being created) publishers. */
  get size(): number {
    return this.#entries.size;
  }

  /** Keys currently cached. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /** Closes and forgets every publisher whose key is not in `keys` (call after a successful reload). */
  async retain(keys: Iterable<string>): Promise<void> {
    const keep = new Set(keys);
    const evicted = [...this.#entries].filter(([key]) => !keep.has(key));
    for (const [key] of evicted) this.#entries.delete(key);
    await Promise.all(evicted.map(([key, entry]) => this.#close(key, entry)));
  }

  /** Closes every publisher (shutdown). */
  async closeAll(): Promise<void> {
    await this.retain([]);
  }

  async #close(key: string, entry: Promise<Publisher>): Promise<void> {
    let publisher: Publisher;
    try {
      publisher = await entry;
    } catch {
      return; // creation failed: nothing to close
    }
    try {
      await publisher.close();
    } catch (error) {
      // Log a digest of the key: the key itself may hold non-secret but private config values.
      this.#logger.warn({ err: error, publisher: sha256(key).slice(0, 16) }, 'closing a publisher failed');
    }
  }
}

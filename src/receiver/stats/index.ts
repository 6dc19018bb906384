/**
 * Per-endpoint request counters for `GET /stats` (reference spec §1.4, §8.10), kept in memory.
 *
 * Each endpoint has a running total and three rings of time buckets aligned to the epoch (UTC): 60 minute
 * buckets, 24 hour buckets and 30 day buckets — the same buckets the reference keeps in Redis, so the
 * windows read identically: `minute` is the current minute bucket; `5_minutes`, `15_minutes`, `30_minutes`
 * and `hour` sum the last 5/15/30/60 minute buckets; `day` the last 24 hour buckets; `week` and `month` the
 * last 7 and 30 day buckets (each including the current bucket). A bucket slot remembers which minute/hour/
 * day it holds, so stale slots read as zero and are reset lazily on the next increment: no timers.
 *
 * Increment is O(1) and allocation-free for a known endpoint (three typed-array writes). Memory is bounded:
 * about 1 KiB per endpoint and at most `maxEndpoints` endpoints (the least recently counted is dropped),
 * because endpoint names come from request paths (ids served by a `default` webhook are counted under
 * their own id). Counts are process-local and start at zero on restart.
 */
import { createHash } from 'node:crypto';

/** One endpoint's counters as served by `/stats` (field names are the reference's). */
export interface EndpointStats {
  total: number;
  minute: number;
  '5_minutes': number;
  '15_minutes': number;
  '30_minutes': number;
  hour: number;
  day: number;
  week: number;
  month: number;
}

/** The `/stats` response body: endpoint name (or its sanitised form) → counters. */
export type StatsSnapshot = Record<string, EndpointStats>;

/** Options of {@link RequestStats}. */
export interface RequestStatsOptions {
  /** Most endpoints tracked; beyond it the least recently counted endpoint is dropped. Default 10000. */
  readonly maxEndpoints?: number;
  /** Clock in epoch milliseconds when `increment`/`snapshot` get no time. Default `Date.now`. */
  readonly clock?: () => number;
}

/** Options of {@link RequestStats.snapshot}. */
export interface SnapshotOptions {
  /** `STATS_SANITIZE_IDS`: key each endpoint by {@link sanitizeEndpointId} instead of its name. Default false. */
  readonly sanitizeIds?: boolean;
  readonly nowMs?: number;
}

/** Longest endpoint name counted, in characters. */
export const MAX_STATS_ENDPOINT_LENGTH = 256;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MINUTES = 60;
const HOURS = 24;
const DAYS = 30;
const HOUR_OFFSET = MINUTES;
const DAY_OFFSET = MINUTES + HOURS;
const SLOTS = MINUTES + HOURS + DAYS;
const UNSAFE_NAME = /[\0\r\n]/;

/** True when `endpoint` can be counted: 1..256 characters, no NUL, CR or LF. */
export function isValidStatsEndpoint(endpoint: string): boolean {
  return endpoint.length > 0 && endpoint.length <= MAX_STATS_ENDPOINT_LENGTH && !UNSAFE_NAME.test(endpoint);
}

/** `"webhook_"` + the first 16 hex characters of SHA-256(endpoint): the `STATS_SANITIZE_IDS` key. */
export function sanitizeEndpointId(endpoint: string): string {
  return `webhook_${createHash('sha256').update(endpoint, 'utf8').digest('hex').slice(0, 16)}`;
}

class EndpointCounters {
  total = 0;
  /** Minute number of the last increment (for approximate least-recently-counted order). */
  touchedMinute = -1;
  readonly counts = new Uint32Array(SLOTS);
  /** The minute/hour/day number each slot currently holds; -1 = never. */
  readonly stamps = new Int32Array(SLOTS).fill(-1);

  bump(offset: number, size: number, unit: number): void {
    const slot = offset + (unit % size);
    if (this.stamps[slot] === unit) (this.counts[slot] as number)++;
    else {
      this.stamps[slot] = unit;
      this.counts[slot] = 1;
    }
  }

  sum(offset: number, size: number, unit: number, buckets: number): number {
    let total = 0;
    for (let k = 0; k < buckets; k++) {
      const wanted = unit - k;
      const slot = offset + (wanted % size);
      if (this.stamps[slot] === wanted) total += this.counts[slot] as number;
    }
    return total;
  }
}

export class RequestStats {
  readonly #endpoints = new Map<string, EndpointCounters>();
  readonly #maxEndpoints: number;
  readonly #clock: () => number;

  constructor(options: RequestStatsOptions = {}) {
    this.#maxEndpoints = Math.max(1, options.maxEndpoints ?? 10_000);
    this.#clock = options.clock ?? Date.now;
  }

  /** Number of endpoints tracked. */
  get size(): number {
    return this.#endpoints.size;
  }

  /**
   * Counts one accepted request for `endpoint` (the path webhook id, or `namespace/id`). Returns false,
   * counting nothing, when the name is not {@link isValidStatsEndpoint} — stats never fail a request.
   */
  increment(endpoint: string, nowMs: number = this.#clock()): boolean {
    let counters = this.#endpoints.get(endpoint);
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (counters === undefined) {
      if (!isValidStatsEndpoint(endpoint)) return false;
      if (this.#endpoints.size >= this.#maxEndpoints) {
        const oldest = this.#endpoints.keys().next();
        if (oldest.done !== true) this.#endpoints.delete(oldest.value);
      }
      counters = new EndpointCounters();
      counters.touchedMinute = minute;
      this.#endpoints.set(endpoint, counters);
    } else if (counters.touchedMinute !== minute) {
      // At most once a minute per endpoint: move it to the end of the eviction order.
      counters.touchedMinute = minute;
      this.#endpoints.delete(endpoint);
      this.#endpoints.set(endpoint, counters);
    }
    counters.total++;
    counters.bump(0, MINUTES, minute);
    counters.bump(HOUR_OFFSET, HOURS, Math.floor(nowMs / HOUR_MS));
    counters.bump(DAY_OFFSET, DAYS, Math.floor(nowMs / DAY_MS));
    return true;
  }

  /** The `/stats` body, endpoints in name order. With `sanitizeIds`, colliding hashes are summed. */
  snapshot(options: SnapshotOptions = {}): StatsSnapshot {
    const nowMs = options.nowMs ?? this.#clock();
    const minute = Math.floor(nowMs / MINUTE_MS);
    const hour = Math.floor(nowMs / HOUR_MS);
    const day = Math.floor(nowMs / DAY_MS);
    // Null prototype: endpoint names such as `__proto__` or `constructor` are ordinary keys.
    const result = Object.create(null) as StatsSnapshot;
    const names = [...this.#endpoints.keys()].sort();
    for (const name of names) {
      const c = this.#endpoints.get(name) as EndpointCounters;
      const stats: EndpointStats = {
        total: c.total,
        minute: c.sum(0, MINUTES, minute, 1),
        '5_minutes': c.sum(0, MINUTES, minute, 5),
        '15_minutes': c.sum(0, MINUTES, minute, 15),
        '30_minutes': c.sum(0, MINUTES, minute, 30),
        hour: c.sum(0, MINUTES, minute, 60),
        day: c.sum(HOUR_OFFSET, HOURS, hour, 24),
        week: c.sum(DAY_OFFSET, DAYS, day, 7),
        month: c.sum(DAY_OFFSET, DAYS, day, 30),
      };
      const key = options.sanitizeIds === true ? sanitizeEndpointId(name) : name;
      const existing = result[key];
      if (existing === undefined) result[key] = stats;
      else for (const field of Object.keys(stats) as (keyof EndpointStats)[]) existing[field] += stats[field];
    }
    return result;
  }

  /** Forgets every endpoint. */
  clear(): void {
    this.#endpoints.clear();
  }
}

/**
 * Limits channel-token guessing on the connector endpoints (WebSocket, SSE, long-poll, `POST
 * /connect/ack`, `GET /connect/status`). Per client address, at most {@link FAILED_AUTH_LIMIT} failed
 * token checks per {@link FAILED_AUTH_WINDOW_MS} (a fixed window from the first failure). Over the limit,
 * every token check from that address is refused until the window ends — the right token too, or the
 * answer would still tell a guesser when it found the token: HTTP 429 `WC_RATE_LIMITED` with
 * `Retry-After`, and a WebSocket handshake is refused with 429 before the upgrade. Successful checks are
 * not counted, so a connector that reconnects often is never limited. One guard per relay service, shared
 * by its transports (created by `createRelay`); at most {@link MAX_ADDRESSES} addresses are tracked (the oldest is forgotten).
 */
import { WebhookConnectError } from '../shared/errors.js';

/** Failed token checks allowed per client address per window. */
export const FAILED_AUTH_LIMIT = 30;
/** The window, ms (one minute). */
export const FAILED_AUTH_WINDOW_MS = 60_000;
const MAX_ADDRESSES = 10_000;

interface Failures {
  start: number;
  count: number;
}

export class AuthGuard {
  readonly #failures = new Map<string, Failures>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Seconds until `address` may try again; 0 when it may try now. */
  blockedFor(address: string | undefined): number {
    const key = address ?? 'unknown';
    const entry = this.#failures.get(key);
    if (entry === undefined) return 0;
    const left = entry.start + FAILED_AUTH_WINDOW_MS - this.#now();
    if (left <= 0) {
      this.#failures.delete(key);
      return 0;
    }
    return entry.count >= FAILED_AUTH_LIMIT ? Math.max(1, Math.ceil(left / 1000)) : 0;
  }

  /** Counts one failed token check from `address`. */
  failed(address: string | undefined): void {
    const key = address ?? 'unknown';
    const now = this.#now();
    const entry = this.#failures.get(key);
    if (entry !== undefined && now - entry.start < FAILED_AUTH_WINDOW_MS) {
      entry.count += 1;
      return;
    }
    this.#failures.delete(key);
    if (this.#failures.size >= MAX_ADDRESSES) {
      const oldest = this.#failures.keys().next();
      if (oldest.done !== true) this.#failures.delete(oldest.value);
    }
    this.#failures.set(key, { start: now, count: 1 });
  }

  /** Throws `WC_RATE_LIMITED` (429 + Retry-After) when `address` is over the limit. */
  check(address: string | undefined): void {
    const seconds = this.blockedFor(address);
    if (seconds > 0) {
      throw new WebhookConnectError('WC_RATE_LIMITED', {
        detail: `Too many invalid channel tokens. Retry after ${seconds} seconds`,
        retryAfterSeconds: seconds,
      });
    }
  }
}

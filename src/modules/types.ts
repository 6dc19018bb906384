/**
 * The output-module contract. A module is a stateless descriptor; `create` returns a long-lived
 * publisher that is cached per (type, canonical config hash) and closed on eviction and shutdown —
 * never one per request. `deliver` resolves when the destination confirmed, and throws a
 * `TransientDeliveryError` (worth retrying) or `PermanentDeliveryError` (not) otherwise.
 */
import type { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import type { OutboundPolicy } from '../shared/ssrf.js';

export {
  TransientDeliveryError,
  PermanentDeliveryError,
  classifyDeliveryError,
} from '../shared/delivery-errors.js';
export type { OutboundPolicy } from '../shared/ssrf.js';

/** One received webhook as modules see it. */
export interface WebhookEvent {
  /** The id from the request path (`namespace/id` for namespaced routes). */
  readonly webhookId: string;
  /** The webhooks.json key that served the request (`default` for the catch-all). */
  readonly configKey: string;
  /** Unique id assigned at receipt. */
  readonly messageId: string;
  readonly receivedAt: Date;
  /** Parsed JSON (any JSON value) for `data_type: json`; the raw bytes for `blob`. After credential cleanup. */
  readonly payload: unknown;
  /** The parsed payload before credential cleanup (relays forward the original; absent = same as `payload`). */
  readonly originalPayload?: unknown;
  /** Request headers, lower-cased, after credential cleanup. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact request body bytes (never cleaned or re-serialised). */
  readonly rawBody: Buffer;
  /** The request headers exactly as received (lower-cased names), for byte-exact relays. */
  readonly rawHeaders: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  /** Query parameters of the request (last value wins for repeated names). */
  readonly query: Readonly<Record<string, string>>;
}

/** What `create` receives. */
export interface ModuleInstanceConfig<ModuleConfig> {
  /** The validated `module-config`. */
  readonly moduleConfig: ModuleConfig;
  /** The resolved connections.json entry named by `connection`, if any. */
  readonly connection: Readonly<Record<string, unknown>> | undefined;
  /** The config key of the webhook this publisher serves. */
  readonly webhookId: string;
}

export interface ModuleDeps {
  readonly logger: Logger;
  /** Which outbound addresses publishers may reach (SSRF guard). */
  readonly outbound: OutboundPolicy;
  /** The Webhook Connect channel service, when this process runs one (used by `webhook_connect`). */
  readonly relay?: RelayPublisherPort;
}

/** One webhook handed to a Webhook Connect channel. */
export interface RelayMessage {
  readonly channel: string;
  /** The request path id (`namespace/id` for namespaced routes). */
  readonly webhook_id: string;
  /** Parsed JSON body, or null when the body is not JSON (or is binary). */
  readonly payload: unknown;
  /** The exact request body bytes. */
  readonly body: Buffer;
  readonly content_type: string | null;
  /** The request headers as received (lower-cased names), not credential-cleaned. */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly received_at: number;
}

/**
 * What the `webhook_connect` module needs from the channel service: a durable append. `publish` resolves
 * only when the message is stored; it throws coded errors (`WC_QUEUE_FULL`, `WC_BUFFER_UNAVAILABLE` with
 * `retryAfterSeconds`, `WC_CHANNEL_NOT_FOUND`, `WC_MESSAGE_TOO_LARGE`) that become the HTTP answer.
 */
export interface RelayPublisherPort {
  publish(message: RelayMessage, signal: AbortSignal): Promise<{ readonly message_id: string }>;
}

export type ComponentStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface ComponentHealth {
  readonly status: ComponentStatus;
  /** Short reason, safe to show publicly (no secrets, no paths). */
  readonly detail?: string;
}

export interface Publisher {
  /** Deliver one event; resolve only when the destination confirmed. Must honour `signal`. */
  deliver(event: WebhookEvent, signal: AbortSignal): Promise<void>;
  /** Release connections, files, timers. Idempotent. */
  close(): Promise<void>;
  /** Optional live check of the destination, for `/health`. */
  health?(): Promise<ComponentHealth>;
}

export interface ModuleDescriptor<ModuleConfig = unknown> {
  /** The name used in webhooks.json `module`. */
  readonly type: string;
  /** Other accepted names (`postgres` for `postgresql`). */
  readonly aliases?: readonly string[];
  /** Schema of `module-config`. */
  readonly schema: z.ZodType<ModuleConfig>;
  /** Connection types (connections.json `type`) this module accepts; absent = takes no connection. */
  readonly connectionTypes?: readonly string[];
  /** Whether a connection is required. */
  readonly requiresConnection?: boolean;
  /** Names of `module-config` / connection fields holding secrets (redacted in logs and admin output). */
  readonly secretFields: readonly string[];
  /**
   * `true` when the receiver must await `deliver` before answering the sender (the answer then reflects
   * the outcome: e.g. `webhook_connect` answers 200 only after the buffer stored the message).
   * Otherwise delivery runs in the background task pool.
   */
  readonly synchronous?: boolean;
  create(config: ModuleInstanceConfig<ModuleConfig>, deps: ModuleDeps): Publisher | Promise<Publisher>;
}

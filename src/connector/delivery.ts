/** What a delivery mode (HTTP targets or output modules) reports for one message. */
import type { WebhookFrame } from '../protocol/frames.js';

export type DeliveryResult = 'success' | 'transient' | 'permanent' | 'aborted';

export interface DeliveryOutcome {
  /**
   * `success` → ack; `transient` (network, timeout, 408, 425, 429, 5xx after the retries) → nack with
   * retry; `permanent` (other 4xx, no target, unknown webhook) → nack without retry (dead letter);
   * `aborted` (shutdown) → nack with retry.
   */
  readonly result: DeliveryResult;
  /** Where it went, for the log line: the target URL, or `module:<type>` / `chain:<a>,<b>`. */
  readonly target: string;
  /** The last HTTP status, when there was one. */
  readonly status?: number;
  /** Why it failed (sent as the nack's `error`). */
  readonly reason?: string;
  /** Attempts made (HTTP mode). */
  readonly attempts: number;
}

export interface DeliveryContext {
  /** `delivery_count` from the frame, or how often this connector has seen the message. */
  readonly deliveryCount: number;
  /** Aborted at the shutdown deadline. */
  readonly signal: AbortSignal;
}

/** A delivery mode. */
export interface Delivery {
  deliver(frame: WebhookFrame, context: DeliveryContext): Promise<DeliveryOutcome>;
  close(): Promise<void>;
}

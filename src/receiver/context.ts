/** Everything the receiver's routes share, built once by `createReceiver`. */
import type { ServerSettings } from '../config/settings.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { HealthRegistry } from './health.js';
import type { SlidingWindowRateLimiter } from './rate-limit/index.js';
import type { ReceiverRuntime } from './runtime.js';
import type { RequestStats } from './stats/index.js';
import type { TaskPool } from './tasks.js';

export interface ReceiverContext {
  readonly settings: ServerSettings;
  readonly logger: Logger;
  readonly runtime: ReceiverRuntime;
  readonly tasks: TaskPool;
  readonly stats: RequestStats;
  readonly metrics: Metrics;
  readonly health: HealthRegistry;
  /** Per-webhook `rate_limit` windows. */
  readonly webhookLimiter: SlidingWindowRateLimiter;
  /** Per-client-IP limits of `/` and `/stats`. */
  readonly endpointLimiter: SlidingWindowRateLimiter;
}

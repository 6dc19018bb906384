/**
 * `module-config` of the `webhook_connect` module: the reference's keys (`channel`, `channel_token`,
 * `ttl_seconds`, `max_queue_size`, `max_connections`, `max_in_flight`) plus ours. Every webhook that
 * names the same channel must give identical channel settings (checked when channels are registered).
 */
import { z } from 'zod';
import { boolLike, intLike, numberLike } from '../../shared/config-fields.js';
import { parseIpRange } from '../../shared/ip.js';

/** Channel names: `^[a-zA-Z0-9][a-zA-Z0-9._-]*$`, at most 128 characters, no `..` (as the wire protocol). */
const channelName = z
  .string()
  .refine((name) => name.length <= 128 && /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(name) && !name.includes('..'), {
    message: 'must match ^[a-zA-Z0-9][a-zA-Z0-9._-]*$, at most 128 characters, without ..',
  });

export const retryBackoffSchema = z
  .object({
    /** First retry delay, seconds. Default 1. */
    initial: numberLike().pipe(z.number().min(0).max(86_400)).default(1),
    /** Largest retry delay, seconds. Default 300. */
    max: numberLike().pipe(z.number().min(0).max(86_400)).default(300),
  })
  .strict()
  .refine((value) => value.max >= value.initial, { message: 'max must be at least initial' });

export const webhookConnectConfigSchema = z
  .object({
    /** Channel name. Required. */
    channel: channelName,
    /** Token connectors present (`Authorization: Bearer …`). Required. */
    channel_token: z.string().refine((value) => value.trim() !== '', { message: 'must not be empty' }),
    /** Message lifetime from receipt, seconds. Default 86400. */
    ttl_seconds: intLike().pipe(z.int().min(1).max(31_536_000)).default(86_400),
    /** Live messages per (channel, webhook) queue before posts get 503. Default 10000. */
    max_queue_size: intLike().pipe(z.int().min(1).max(10_000_000)).default(10_000),
    /** Concurrent connector sessions per channel (per receiver instance). Default 10. */
    max_connections: intLike().pipe(z.int().min(1).max(10_000)).default(10),
    /** Unacknowledged messages per connection. Default 100. */
    max_in_flight: intLike().pipe(z.int().min(1).max(10_000)).default(100),
    /** Lease length: a message not acked within it is redelivered. Default 30. */
    ack_timeout_seconds: numberLike().pipe(z.number().min(0.1).max(86_400)).default(30),
    /** Deliveries before a message is dead-lettered. Default 10. */
    max_delivery_attempts: intLike().pipe(z.int().min(1).max(1000)).default(10),
    /** Redelivery backoff `min(initial × 2^(n − 1), max)` seconds. Default `{initial: 1, max: 300}`. */
    retry_backoff: retryBackoffSchema.default({ initial: 1, max: 300 }),
    /** Server heartbeat interval; a WebSocket connector silent for 3 intervals is evicted. Default 30. */
    heartbeat_interval_seconds: numberLike().pipe(z.number().min(0.1).max(3600)).default(30),
    /** Largest accepted body, bytes. Default 10485760 (10 MiB). */
    max_message_size: intLike()
      .pipe(
        z
          .int()
          .min(1)
          .max(1024 * 1024 * 1024),
      )
      .default(10 * 1024 * 1024),
    /** IPs / CIDR ranges connectors may connect from. Default: any. */
    allowed_ips: z
      .array(
        z.string().refine((value) => parseIpRange(value.trim()) !== undefined, {
          message: 'is not an IP address or CIDR range',
        }),
      )
      .default([]),
    /** Strict FIFO per channel: one message in flight at a time. Default false. */
    ordered: boolLike().default(false),
  })
  .strict();

export type WebhookConnectConfig = z.output<typeof webhookConnectConfigSchema>;

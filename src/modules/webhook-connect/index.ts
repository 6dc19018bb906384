/**
 * `webhook_connect`: appends each webhook to its Webhook Connect channel (reference §4.18, fixed per
 * §10.1 items 2, 3 and 5). The module is **synchronous**: the receiver awaits `deliver`, which resolves
 * only once the channel's buffer durably stored the message, so a 200 always means "stored". A full
 * queue or an unreachable buffer throws a coded 503 with `Retry-After`.
 *
 * What is relayed is the original request, not the credential-cleaned view other modules get: `body`
 * is the exact raw bytes, `headers` the headers as received, and `payload` is parsed from the raw bytes
 * (so the local application can verify the provider's signature). Channels are registered from
 * configuration by the relay, not here.
 */
import { WebhookConnectError } from '../../shared/errors.js';
import type { ModuleDescriptor, Publisher, RelayMessage, WebhookEvent } from '../types.js';
import { webhookConnectConfigSchema, type WebhookConnectConfig } from './schema.js';

export { webhookConnectConfigSchema, type WebhookConnectConfig } from './schema.js';

/** The parsed payload of the exact body: JSON when it parses, else null (binary or text bodies). */
export function relayPayload(event: WebhookEvent): unknown {
  if (Buffer.isBuffer(event.payload)) return null; // data_type blob: the bytes travel in `body`
  if (event.originalPayload !== undefined) return event.originalPayload; // parsed once by the receiver
  if (event.rawBody.length === 0) return event.payload ?? null;
  try {
    return JSON.parse(event.rawBody.toString('utf8')) as unknown;
  } catch {
    return event.payload ?? null;
  }
}

/** The message `deliver` hands to the channel service. */
export function toRelayMessage(config: WebhookConnectConfig, event: WebhookEvent): RelayMessage {
  return {
    channel: config.channel,
    webhook_id: event.webhookId,
    payload: relayPayload(event),
    body: event.rawBody,
    content_type: event.contentType ?? null,
    headers: event.rawHeaders,
    query: event.query,
    received_at: event.receivedAt.getTime(),
  };
}

export const webhookConnectModule: ModuleDescriptor<WebhookConnectConfig> = {
  type: 'webhook_connect',
  schema: webhookConnectConfigSchema,
  secretFields: ['channel_token'],
  synchronous: true,
  create(instance, deps): Publisher {
    const config = instance.moduleConfig;
    return {
      async deliver(event, signal) {
        signal.throwIfAborted();
        if (event.rawBody.length > config.max_message_size) {
          throw new WebhookConnectError('WC_MESSAGE_TOO_LARGE', {
            detail: `Message of ${event.rawBody.length} bytes exceeds max_message_size ${config.max_message_size} of channel '${config.channel}'`,
          });
        }
        if (deps.relay === undefined) {
          throw new WebhookConnectError('WC_RELAY_NOT_RUNNING', { retryAfterSeconds: 5 });
        }
        await deps.relay.publish(toRelayMessage(config, event), signal);
      },
      async close() {},
    };
  },
};

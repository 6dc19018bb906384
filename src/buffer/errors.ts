/** Coded errors the buffer throws; the relay turns them into 503/404 responses. */
import { WebhookConnectError } from '../shared/errors.js';

/** Seconds a publisher is told to wait after a full queue or an unavailable buffer. */
export const BUFFER_RETRY_AFTER_SECONDS = 5;

export function queueFullError(channel: string, webhookId: string): WebhookConnectError {
  return new WebhookConnectError('WC_QUEUE_FULL', {
    detail: `Queue of channel '${channel}' for webhook '${webhookId}' is full`,
    retryAfterSeconds: BUFFER_RETRY_AFTER_SECONDS,
  });
}

export function bufferUnavailableError(cause?: unknown): WebhookConnectError {
  return new WebhookConnectError('WC_BUFFER_UNAVAILABLE', {
    retryAfterSeconds: BUFFER_RETRY_AFTER_SECONDS,
    cause,
  });
}

export function channelNotFoundError(channel: string): WebhookConnectError {
  return new WebhookConnectError('WC_CHANNEL_NOT_FOUND', { detail: `Channel '${channel}' not found` });
}

export function duplicateMessageError(id: string): WebhookConnectError {
  return new WebhookConnectError('WC_MESSAGE_DUPLICATE', { detail: `Message '${id}' is already stored` });
}

/** Completes and checks channel settings; every backend calls this from `ensureChannel`. */
import { WebhookConnectError } from '../shared/errors.js';
import { DEFAULT_CHANNEL_SETTINGS, type ChannelSettings } from './types.js';

/** `partial` over the defaults; throws `WC_CONFIG_INVALID` for values no channel can work with. */
export function resolveChannelSettings(partial: Partial<ChannelSettings> = {}): ChannelSettings {
  const settings: ChannelSettings = Object.freeze({
    ...DEFAULT_CHANNEL_SETTINGS,
    ...partial,
    retry_backoff: Object.freeze({ ...DEFAULT_CHANNEL_SETTINGS.retry_backoff, ...partial.retry_backoff }),
  });
  const positive: [string, number][] = [
    ['ttl_seconds', settings.ttl_seconds],
    ['max_queue_size', settings.max_queue_size],
    ['max_delivery_attempts', settings.max_delivery_attempts],
    ['ack_timeout_seconds', settings.ack_timeout_seconds],
  ];
  for (const [name, value] of positive) {
    if (!Number.isFinite(value) || value <= 0) invalid(`${name} must be a positive number`);
  }
  const { initial, max } = settings.retry_backoff;
  if (!Number.isFinite(initial) || !Number.isFinite(max) || initial < 0 || max < initial) {
    invalid('retry_backoff needs 0 <= initial <= max');
  }
  return settings;
}

function invalid(detail: string): never {
  throw new WebhookConnectError('WC_CONFIG_INVALID', { detail: `channel settings: ${detail}` });
}

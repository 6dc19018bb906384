/**
 * Channel definitions from configuration. Every `webhook_connect` module of every webhook (single
 * module or chain item) names a channel and its settings; one channel may be fed by several webhooks only
 * when they all give identical settings (token included). Conflicts are config issues with the path of
 * the second definition, so `serve` refuses to start and a reload keeps the serving configuration.
 */
import type { ConfigIssue } from '../config/issues.js';
import type { ChannelSettings } from '../buffer/types.js';
import { webhookConnectConfigSchema, type WebhookConnectConfig } from '../modules/webhook-connect/index.js';
import type { CompiledWebhook } from '../receiver/runtime.js';
import { parseIpRange, type IpRange } from '../shared/ip.js';

/** The module type whose configs define channels. */
export const WEBHOOK_CONNECT_MODULE = 'webhook_connect';

/** One channel as configured. */
export interface ChannelDefinition {
  readonly name: string;
  readonly config: WebhookConnectConfig;
  readonly allowedIps: readonly IpRange[];
  /** The webhooks.json keys feeding this channel, in config order. */
  readonly webhookIds: readonly string[];
  /** Where it was first defined (for messages). */
  readonly source: string;
}

/** The buffer's share of a channel's settings. */
export function bufferSettings(config: WebhookConnectConfig): ChannelSettings {
  return {
    ttl_seconds: config.ttl_seconds,
    max_queue_size: config.max_queue_size,
    max_delivery_attempts: config.max_delivery_attempts,
    ack_timeout_seconds: config.ack_timeout_seconds,
    retry_backoff: { initial: config.retry_backoff.initial, max: config.retry_backoff.max },
    ordered: config.ordered,
  };
}

/** Canonical JSON of a config (sorted keys), to compare two definitions. */
function canonical(config: WebhookConnectConfig): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
    );
  };
  return JSON.stringify(sorted(config));
}

/** The settings that differ between two definitions (never their values: tokens are secrets). */
function differences(a: WebhookConnectConfig, b: WebhookConnectConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys]
    .filter(
      (key) =>
        JSON.stringify((a as Record<string, unknown>)[key]) !==
        JSON.stringify((b as Record<string, unknown>)[key]),
    )
    .sort();
}

/** Collects channel definitions; conflicting definitions become issues located at the later webhook. */
export function collectChannels(
  webhooks: ReadonlyMap<string, CompiledWebhook>,
  file = 'webhooks.json',
): { channels: Map<string, ChannelDefinition>; issues: ConfigIssue[] } {
  const channels = new Map<string, ChannelDefinition & { webhookIds: string[]; key: string }>();
  const issues: ConfigIssue[] = [];
  for (const [id, webhook] of webhooks) {
    const plan = webhook.dispatcher.plan;
    const targets =
      plan.kind === 'single'
        ? [{ target: plan.target, path: ['module-config'] as (string | number)[] }]
        : plan.items.map((target, index) => ({ target, path: ['chain', index, 'module-config'] }));
    for (const { target, path } of targets) {
      if (target.module.trim() !== WEBHOOK_CONNECT_MODULE) continue;
      const parsed = webhookConnectConfigSchema.safeParse(target.moduleConfig);
      if (!parsed.success) continue; // reported by the dispatcher
      const config = parsed.data;
      const where = `${id} › ${path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('')}`;
      const existing = channels.get(config.channel);
      if (existing === undefined) {
        channels.set(config.channel, {
          name: config.channel,
          config,
          allowedIps: config.allowed_ips.map((text) => parseIpRange(text.trim()) as IpRange),
          webhookIds: [id],
          source: where,
          key: canonical(config),
        });
        continue;
      }
      if (existing.key !== canonical(config)) {
        issues.push({
          file,
          path: [id, ...path, 'channel'],
          message: `channel '${config.channel}' is already defined by ${existing.source} with different settings (${differences(existing.config, config).join(', ')}); every webhook feeding one channel must give identical channel settings`,
        });
        continue;
      }
      if (!existing.webhookIds.includes(id)) existing.webhookIds.push(id);
    }
  }
  return { channels, issues };
}

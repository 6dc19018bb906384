/**
 * Module mode: `webhooks_config` and `connections_config` in the receiver's format, loaded by the
 * receiver's loader (`{$VAR}` substitution, every error with its path; authentication keys are validated
 * but not run — the relay already authenticated the webhook) and dispatched by the receiver's own
 * `planDispatch`/`createDispatcher`: the same modules, chains, retries and publisher cache, one code path.
 * A message is routed by `webhook_id`, falling back to a `default` entry; an unknown id is a permanent
 * failure (dead letter). Outbound modules follow the receiver's SSRF policy (`OUTBOUND_ALLOWED_HOSTS`).
 *
 * Remembered chain steps (`remember_succeeded_steps`, default true): when a chain partly fails, the
 * indexes of the steps that succeeded are kept in memory under the message id (bounded like the dedup
 * window). When the relay redelivers that message to this connector, the chain runs with those steps
 * removed — built with the same `createDispatcher` from the reduced plan, publishers shared through the
 * cache — so a succeeded step is not repeated. The memory is per process: after a restart, or when another
 * connector gets the redelivery, the whole chain runs again (at-least-once).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthRegistry } from '../auth/registry.js';
import { ConfigError } from '../config/issues.js';
import { loadConfig, type WebhookDefinition } from '../config/load.js';
import {
  createDispatcher,
  type Dispatcher,
  type DispatchPlan,
  type ModuleResult,
} from '../modules/dispatch.js';
import { PublisherCache } from '../modules/publisher-cache.js';
import { createModuleRegistry } from '../modules/registry.js';
import type { WebhookEvent } from '../modules/types.js';
import type { Logger } from '../observability/logger.js';
import { frameBodyBytes, type WebhookFrame } from '../protocol/frames.js';
import { outboundPolicyFromEnv } from '../shared/ssrf.js';
import type { ConnectorConfig } from './config.js';
import type { Delivery, DeliveryOutcome } from './delivery.js';
import { ExpiringMap } from './flow.js';

/** Webhook ids as the relay can send them: letters, digits, `_` and `-`, at most 64. */
function isWebhookId(id: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/.test(id) && !id.includes('--') && !id.includes('__');
}

/** The event the modules see, built from a frame. */
export function eventFromFrame(frame: WebhookFrame, configKey: string, blob: boolean): WebhookEvent {
  const rawBody = frameBodyBytes(frame);
  const headers = frame.headers ?? {};
  const receivedAt = new Date(frame.timestamp);
  return {
    webhookId: frame.webhook_id,
    configKey,
    messageId: frame.message_id,
    receivedAt: Number.isNaN(receivedAt.getTime()) ? new Date() : receivedAt,
    payload: blob ? rawBody : frame.payload,
    headers,
    rawBody,
    rawHeaders: headers,
    contentType: frame.content_type ?? headers['content-type'],
    query: frame.query ?? {},
  };
}

function describePlan(plan: DispatchPlan): string {
  return plan.kind === 'single'
    ? `module:${plan.target.module}`
    : `chain:${plan.items.map((item) => item.module).join(',')}`;
}

function failureReason(results: readonly ModuleResult[], indexes: readonly number[]): string {
  return results
    .map((result, position) => ({ result, index: indexes[position] ?? position }))
    .filter(({ result }) => !result.success && !result.skipped)
    .map(
      ({ result, index }) =>
        `${indexes.length > 1 ? `chain[${index}] ` : ''}${result.module}: ${result.errorMessage ?? 'failed'}`,
    )
    .join('; ')
    .slice(0, 1000);
}

export async function createModuleDelivery(
  config: ConnectorConfig,
  options: { readonly logger: Logger; readonly env: Readonly<Record<string, string | undefined>> },
): Promise<Delivery> {
  const moduleRegistry = createModuleRegistry();
  const loaded = loadConfig({
    webhooksFile: config.webhooks_config!,
    // Without connections_config: a path that does not exist, which the loader treats as "no connections".
    connectionsFile: config.connections_config ?? join(tmpdir(), 'webhook-connect-none', 'connections.json'),
    env: options.env,
    authRegistry: createAuthRegistry(),
    moduleRegistry,
    isValidWebhookId: isWebhookId,
  });
  if (!loaded.ok) throw new ConfigError(loaded.issues);

  const cache = new PublisherCache({ logger: options.logger });
  const dispatcherOptions = {
    registry: moduleRegistry,
    cache,
    deps: { logger: options.logger, outbound: outboundPolicyFromEnv(options.env) },
  };
  const dispatchers = new Map<string, Dispatcher>();
  try {
    for (const [id, definition] of loaded.config.webhooks) {
      dispatchers.set(id, await createDispatcher(definition.plan, dispatcherOptions));
    }
  } catch (error) {
    await cache.closeAll();
    throw new ConfigError([{ file: 'webhooks_config', path: [], message: (error as Error).message }]);
  }

  /** message id → indexes of chain steps that succeeded. */
  const succeeded = new ExpiringMap<ReadonlySet<number>>(
    Math.max(config.dedup_window_size, 1000),
    config.dedup_window_seconds * 1000,
  );
  /** `webhook id|skipped indexes` → dispatcher of the reduced chain. */
  const reduced = new Map<string, Dispatcher>();

  const reducedDispatcher = async (
    id: string,
    plan: Extract<DispatchPlan, { kind: 'chain' }>,
    keep: number[],
  ) => {
    const key = `${id}|${keep.join(',')}`;
    let found = reduced.get(key);
    if (found === undefined) {
      found = await createDispatcher(
        { ...plan, items: keep.map((index) => plan.items[index]!) },
        dispatcherOptions,
      );
      if (reduced.size > 1000) reduced.clear();
      reduced.set(key, found);
    }
    return found;
  };

  return {
    async deliver(frame, context): Promise<DeliveryOutcome> {
      const key = dispatchers.has(frame.webhook_id) ? frame.webhook_id : 'default';
      const dispatcher = dispatchers.get(key);
      const definition: WebhookDefinition | undefined = loaded.config.webhooks.get(key);
      if (dispatcher === undefined || definition === undefined) {
        return {
          result: 'permanent',
          target: '-',
          attempts: 0,
          reason: `webhook_id '${frame.webhook_id}' is not in webhooks_config`,
        };
      }
      const plan = dispatcher.plan;
      const target = describePlan(plan);
      const event = eventFromFrame(frame, key, definition.entry.data_type === 'blob');

      let run = dispatcher;
      let indexes = plan.kind === 'chain' ? plan.items.map((_item, index) => index) : [0];
      const done = succeeded.get(frame.message_id);
      if (plan.kind === 'chain' && config.remember_succeeded_steps && done !== undefined) {
        indexes = indexes.filter((index) => !done.has(index));
        if (indexes.length === 0) return { result: 'success', target, attempts: 0 };
        run = await reducedDispatcher(key, plan, indexes);
        options.logger.info(
          { message_id: frame.message_id, skipped_steps: [...done] },
          'redelivery: skipping chain steps that already succeeded',
        );
      }

      const outcome = await run.run(event, context.signal);
      if (outcome.success) {
        succeeded.delete(frame.message_id);
        return { result: 'success', target, attempts: 1 };
      }
      if (plan.kind === 'chain' && config.remember_succeeded_steps) {
        const next = new Set(done ?? []);
        outcome.results.forEach((result, position) => {
          if (result.success) next.add(indexes[position]!);
        });
        succeeded.set(frame.message_id, next);
      }
      if (outcome.aborted)
        return { result: 'aborted', target, attempts: 1, reason: 'connector shutting down' };
      const retryable = outcome.results.some((result) => !result.success && result.retryable === true);
      return {
        result: retryable ? 'transient' : 'permanent',
        target,
        attempts: 1,
        reason: failureReason(outcome.results, indexes),
      };
    },
    async close() {
      await cache.closeAll();
    },
  };
}

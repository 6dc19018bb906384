/**
 * Dispatch: the one code path that hands a webhook to its output module or chain, used by the receiver
 * and by the connector's module mode.
 *
 * 1. `planDispatch(webhookId, entry, connections)` turns a validated webhooks.json entry into a
 *    `DispatchPlan`: `chain` wins over `module`; each chain item's `module-config` is shallow-merged over
 *    the webhook's top-level `module-config` (item keys win); an item without its own `connection`
 *    inherits the webhook's top-level `connection` (fixes §10.3 item 47); an item without its own `retry`
 *    inherits the webhook-level `retry` (fixes item 30).
 * 2. `createDispatcher(plan, options)` validates every `module-config` against its module's schema,
 *    checks connections, and acquires the publishers through the `PublisherCache` — all at boot/reload.
 * 3. `dispatcher.run(event, signal)` delivers (with retry, chain execution and timeouts) and never throws;
 *    it resolves a `DispatchResult` with one `ModuleResult` per module, and reports each module that ran to
 *    `onResult` (for metrics).
 */
import { isWebhookConnectError, WebhookConnectError } from '../shared/errors.js';
import { runChain, type ModuleResult } from './chain.js';
import type { PublisherCache } from './publisher-cache.js';
import type { ModuleRegistry } from './registry.js';
import { runWithRetry, type RetryRunOptions } from './retry.js';
import {
  chainConfigSchema,
  type ChainExecutionConfig,
  type ChainItemConfig,
  type RetryConfig,
} from './schemas.js';
import type { ModuleDeps, ModuleDescriptor, Publisher, WebhookEvent } from './types.js';

export type { ModuleResult } from './chain.js';

/** A resolved connections.json entry. */
export interface ResolvedConnection {
  /** The connections.json key. */
  readonly name: string;
  /** The entry (its `type` and settings). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** One module to run, with everything resolved except schema validation. */
export interface DispatchTarget {
  /** Module type or alias as written in config. */
  readonly module: string;
  /** Raw `module-config` (validated by `createDispatcher`). */
  readonly moduleConfig: Readonly<Record<string, unknown>>;
  /** The connection, if the item or the webhook names one. */
  readonly connection?: ResolvedConnection;
  /** Retry policy; absent = a single attempt. */
  readonly retry?: RetryConfig;
}

/** What a webhook does with an accepted event. */
export type DispatchPlan =
  | { readonly kind: 'single'; readonly webhookId: string; readonly target: DispatchTarget }
  | {
      readonly kind: 'chain';
      readonly webhookId: string;
      readonly items: readonly DispatchTarget[];
      readonly execution: ChainExecutionConfig;
    };

/** The module-framework keys of a webhooks.json entry (as validated by the config schemas). */
export interface WebhookDispatchConfig {
  readonly module?: string | undefined;
  readonly 'module-config'?: Readonly<Record<string, unknown>> | undefined;
  readonly connection?: string | undefined;
  readonly retry?: RetryConfig | undefined;
  readonly chain?: readonly ChainItemConfig[] | undefined;
  readonly 'chain-config'?: ChainExecutionConfig | null | undefined;
}

/** Looks a connection up by name (connections.json). */
export type ConnectionLookup = (name: string) => Readonly<Record<string, unknown>> | undefined;

function invalid(detail: string): WebhookConnectError {
  return new WebhookConnectError('WC_CONFIG_INVALID', { detail });
}

function resolveConnection(name: string | undefined, connections: ConnectionLookup, where: string) {
  if (name === undefined) return undefined;
  const details = connections(name);
  if (details === undefined) throw invalid(`${where}connection '${name}' is not defined in connections.json`);
  return { name, details };
}

function target(
  module: string,
  moduleConfig: Readonly<Record<string, unknown>>,
  connection: ResolvedConnection | undefined,
  retry: RetryConfig | undefined,
): DispatchTarget {
  return {
    module,
    moduleConfig,
    ...(connection === undefined ? {} : { connection }),
    ...(retry === undefined ? {} : { retry }),
  };
}

const DEPRECATED_ITEM_KEYS = ['topic', 'queue_name', 'destination'] as const;

/** Resolves a webhook entry into a plan. Throws `WC_CONFIG_INVALID` naming the problem. */
export function planDispatch(
  webhookId: string,
  entry: WebhookDispatchConfig,
  connections: ConnectionLookup,
): DispatchPlan {
  const topConfig = entry['module-config'] ?? {};
  if (entry.chain !== undefined) {
    const items = entry.chain.map((item, index): DispatchTarget => {
      const where = `chain[${index}]: `;
      if (typeof item === 'string') {
        return target(
          item.trim(),
          { ...topConfig },
          resolveConnection(entry.connection, connections, where),
          entry.retry,
        );
      }
      const merged: Record<string, unknown> = { ...topConfig, ...(item['module-config'] ?? {}) };
      for (const key of DEPRECATED_ITEM_KEYS) {
        const value = item[key];
        if (value === undefined) continue;
        if (item['module-config'] !== undefined && key in item['module-config']) {
          throw invalid(`${where}'${key}' given both on the item and in its module-config`);
        }
        merged[key] = value;
      }
      const connection = resolveConnection(item.connection ?? entry.connection, connections, where);
      return target(item.module.trim(), merged, connection, item.retry ?? entry.retry);
    });
    return {
      kind: 'chain',
      webhookId,
      items,
      execution: entry['chain-config'] ?? chainConfigSchema.parse({}),
    };
  }
  if (entry.module === undefined || entry.module.trim() === '')
    throw invalid('webhook needs a module or a chain');
  return {
    kind: 'single',
    webhookId,
    target: target(
      entry.module.trim(),
      topConfig,
      resolveConnection(entry.connection, connections, ''),
      entry.retry,
    ),
  };
}

/** The outcome of one `run`. */
export interface DispatchResult {
  /** Every module succeeded. */
  readonly success: boolean;
  /** The caller's signal (shutdown) interrupted the run: nack without counting an attempt. */
  readonly aborted: boolean;
  /** One entry per module, in plan order. */
  readonly results: readonly ModuleResult[];
}

export interface DispatcherOptions {
  readonly registry: ModuleRegistry;
  readonly cache: PublisherCache;
  readonly deps: ModuleDeps;
  /**
   * Called for every module that ran (not for skipped chain items), with its result and wall time — the
   * receiver turns it into metrics. Must not throw; default none.
   */
  readonly onResult?: (module: string, result: ModuleResult, durationMs: number) => void;
  /** Passed to `runWithRetry` (tests inject a fast sleep). */
  readonly retry?: RetryRunOptions;
}

/** One publisher a dispatcher uses (for `/health`). */
export interface DispatchPublisher {
  /** Canonical module type. */
  readonly type: string;
  /** Position in the plan (0 for a single module). */
  readonly index: number;
  /** Its `PublisherCache` key. */
  readonly key: string;
  readonly publisher: Publisher;
}

export interface Dispatcher {
  readonly plan: DispatchPlan;
  /** The publishers in plan order (one per module/chain item). */
  readonly publishers: readonly DispatchPublisher[];
  /** Cache keys of the publishers this dispatcher uses (for `PublisherCache.retain` after a reload). */
  readonly publisherKeys: readonly string[];
  /** True when any module must be awaited before answering (e.g. `webhook_connect`). */
  readonly synchronous: boolean;
  /** Delivers one event. Never throws. */
  run(event: WebhookEvent, signal: AbortSignal): Promise<DispatchResult>;
}

interface PreparedTarget {
  readonly type: string;
  readonly publisher: Publisher;
  readonly retry: RetryConfig | undefined;
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

async function prepare(
  item: DispatchTarget,
  where: string,
  webhookId: string,
  options: DispatcherOptions,
): Promise<{ key: string; prepared: PreparedTarget; descriptor: ModuleDescriptor }> {
  const descriptor = options.registry.require(item.module);
  const parsed = descriptor.schema.safeParse(item.moduleConfig);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '' : `.${issuePath(issue.path)}`;
    throw invalid(`${where}module-config${path}: ${issue?.message ?? 'invalid'}`);
  }
  if (item.connection !== undefined && descriptor.connectionTypes !== undefined) {
    const type = item.connection.details.type;
    if (typeof type !== 'string' || !descriptor.connectionTypes.includes(type)) {
      throw invalid(
        `${where}connection '${item.connection.name}' has type '${String(type)}'; ${descriptor.type} needs ${descriptor.connectionTypes.join(' or ')}`,
      );
    }
  }
  if (descriptor.requiresConnection === true && item.connection === undefined) {
    throw invalid(`${where}${descriptor.type} needs a connection`);
  }
  const { key, publisher } = await options.cache.acquire(
    descriptor,
    { moduleConfig: parsed.data, connection: item.connection?.details, webhookId },
    options.deps,
  );
  return { key, descriptor, prepared: { type: descriptor.type, publisher, retry: item.retry } };
}

function findCode(error: Error): string | undefined {
  if (isWebhookConnectError(error)) return error.code;
  return isWebhookConnectError(error.cause) ? error.cause.code : undefined;
}

function runTarget(
  target: PreparedTarget,
  index: number,
  event: WebhookEvent,
  signal: AbortSignal,
  rootSignal: AbortSignal,
  options: DispatcherOptions,
): Promise<ModuleResult> {
  const started = performance.now();
  const attempt = (attemptSignal: AbortSignal) => target.publisher.deliver(event, attemptSignal);
  return runWithRetry(attempt, target.retry, signal, options.retry).then((outcome) => {
    const durationMs = performance.now() - started;
    const result: ModuleResult = outcome.ok
      ? {
          module: target.type,
          index,
          attempts: outcome.attempts,
          durationMs,
          skipped: false,
          success: true,
          aborted: false,
        }
      : {
          module: target.type,
          index,
          attempts: outcome.attempts,
          durationMs,
          skipped: false,
          success: false,
          // Only the caller's signal (shutdown) marks a result aborted; chain timeouts and cancels are failures.
          aborted: outcome.aborted && rootSignal.aborted,
          errorCode:
            findCode(outcome.error) ??
            (outcome.error.retryable ? 'WC_DELIVERY_TRANSIENT' : 'WC_DELIVERY_PERMANENT'),
          errorMessage: outcome.error.message,
          retryable: outcome.error.retryable,
          error: outcome.error,
        };
    try {
      options.onResult?.(target.type, result, durationMs);
    } catch {
      // a metrics hook must never break delivery
    }
    return result;
  });
}

/** Validates the plan, acquires its publishers and returns the runner. Throws `WC_CONFIG_INVALID` etc. */
export async function createDispatcher(plan: DispatchPlan, options: DispatcherOptions): Promise<Dispatcher> {
  const items = plan.kind === 'single' ? [plan.target] : plan.items;
  const prepared = await Promise.all(
    items.map((item, index) =>
      prepare(item, plan.kind === 'chain' ? `chain[${index}]: ` : '', plan.webhookId, options),
    ),
  );
  const targets = prepared.map((entry) => entry.prepared);
  const names = targets.map((entry) => entry.type);

  const run =
    plan.kind === 'single'
      ? (event: WebhookEvent, signal: AbortSignal): Promise<DispatchResult> =>
          runTarget(targets[0]!, 0, event, signal, signal, options).then((result) => ({
            success: result.success,
            aborted: signal.aborted,
            results: [result],
          }))
      : async (event: WebhookEvent, signal: AbortSignal): Promise<DispatchResult> => {
          const results = await runChain(names, plan.execution, signal, (index, itemSignal) =>
            runTarget(targets[index]!, index, event, itemSignal, signal, options),
          );
          return { success: results.every((result) => result.success), aborted: signal.aborted, results };
        };

  return {
    plan,
    publishers: prepared.map((entry, index) => ({
      type: entry.prepared.type,
      index,
      key: entry.key,
      publisher: entry.prepared.publisher,
    })),
    publisherKeys: [...new Set(prepared.map((entry) => entry.key))],
    synchronous: prepared.some((entry) => entry.descriptor.synchronous === true),
    run,
  };
}

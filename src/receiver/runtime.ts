/**
 * The receiver's live configuration: webhooks.json and connections.json loaded, validated and compiled
 * into per-webhook routes (auth verifiers, schema validator, dispatcher with cached publishers).
 *
 * Lifecycle: `load()` once at startup (failure = startup failure); `reload()` builds a complete new set of
 * routes beside the current one and swaps it in only when everything compiled — otherwise the previous
 * configuration keeps serving and the failure is kept for `/admin/config-status` and `/health`. After a
 * swap, publishers no longer used by any route are closed. `validateOnly` compiles with a throwaway
 * publisher cache and swaps nothing.
 */
import type { AuthRegistry } from '../auth/registry.js';
import type { AuthVerifier } from '../auth/types.js';
import type { ConfigIssue } from '../config/issues.js';
import { loadConfig, type AppConfig, type WebhookDefinition } from '../config/load.js';
import type { ServerSettings } from '../config/settings.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from '../modules/dispatch.js';
import { createCredentialCleaner, type CredentialCleaner } from '../modules/credential-cleanup.js';
import { PublisherCache } from '../modules/publisher-cache.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { ModuleDeps } from '../modules/types.js';
import type { Logger } from '../observability/logger.js';
import { isWebhookConnectError } from '../shared/errors.js';
import type { IpRange } from '../shared/ip.js';
import { isValidWebhookId } from './limits/index.js';

export interface CompiledWebhook {
  readonly definition: WebhookDefinition;
  readonly verifiers: readonly { readonly type: string; readonly verify: AuthVerifier }[];
  /** The webhook's `trusted_proxies`, or the global `TRUSTED_PROXY_IPS`. */
  readonly trustedProxies: readonly IpRange[];
  readonly maxBodyBytes: number;
  readonly dispatcher: Dispatcher;
  /** Applies the webhook's `credential_cleanup` to what modules receive. */
  readonly cleaner: CredentialCleaner;
  /** A single module with `retry.enabled`: the response peeks at the outcome (200 processed / 202). */
  readonly retryEnabled: boolean;
}

export interface CompiledConfig {
  readonly config: AppConfig;
  readonly webhooks: ReadonlyMap<string, CompiledWebhook>;
  readonly loadedAt: Date;
}

export interface ReloadOutcome {
  readonly ok: boolean;
  /** Another reload was running; nothing was done. */
  readonly inProgress?: boolean;
  readonly issues: readonly ConfigIssue[];
  readonly webhooks: number;
  readonly connections: number;
}

export interface RuntimeOptions {
  readonly settings: ServerSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly authRegistry: AuthRegistry;
  readonly moduleRegistry: ModuleRegistry;
  readonly moduleDeps: ModuleDeps;
  readonly onDelivery?: DispatcherOptions['onResult'];
  /** Webhook Connect channel registration (validated at every compile, applied after every swap). */
  readonly channels?: ChannelRegistrar;
}

/**
 * Registers Webhook Connect channels from configuration: `validate` reports conflicting channel
 * definitions as config issues (so a bad reload keeps the serving config); `apply` declares the channels
 * of a configuration that was swapped in (startup and reload). An `apply` failure at startup is fatal.
 */
export interface ChannelRegistrar {
  validate(webhooks: ReadonlyMap<string, CompiledWebhook>, file: string): readonly ConfigIssue[];
  apply(webhooks: ReadonlyMap<string, CompiledWebhook>): Promise<void>;
}

export class ReceiverRuntime {
  readonly #options: RuntimeOptions;
  readonly #publishers: PublisherCache;
  #current: CompiledConfig | undefined;
  #lastReloadAt: Date | undefined;
  #lastFailure: { at: Date; issues: readonly ConfigIssue[] } | undefined;
  #reloading = false;

  constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#publishers = new PublisherCache({ logger: options.logger });
  }

  /** The configuration serving requests. Throws before `load()` succeeded. */
  get current(): CompiledConfig {
    if (this.#current === undefined) throw new Error('configuration not loaded');
    return this.#current;
  }

  get publishers(): PublisherCache {
    return this.#publishers;
  }

  get status() {
    return {
      lastReloadAt: this.#lastReloadAt,
      lastFailure: this.#lastFailure,
      reloadInProgress: this.#reloading,
    };
  }

  /** Initial load. Resolves with the issues that prevent starting (empty on success). */
  async load(): Promise<readonly ConfigIssue[]> {
    const outcome = await this.#compile(this.#publishers);
    if ('issues' in outcome) return outcome.issues;
    if (this.#options.channels !== undefined) {
      try {
        await this.#options.channels.apply(outcome.webhooks);
      } catch (error) {
        return [{ file: 'environment', path: ['WEBHOOK_CONNECT_BUFFER'], message: (error as Error).message }];
      }
    }
    this.#current = outcome;
    return [];
  }

  /** Reloads both files; keeps the current configuration when anything fails. */
  async reload(options: { validateOnly?: boolean } = {}): Promise<ReloadOutcome> {
    if (this.#reloading) {
      return { ok: false, inProgress: true, issues: [], webhooks: 0, connections: 0 };
    }
    this.#reloading = true;
    const cache =
      options.validateOnly === true ? new PublisherCache({ logger: this.#options.logger }) : this.#publishers;
    try {
      const outcome = await this.#compile(cache);
      if ('issues' in outcome) {
        if (options.validateOnly !== true) {
          this.#lastFailure = { at: new Date(), issues: outcome.issues };
          // Publishers created for the failed attempt and not used by the serving config are closed.
          if (this.#current !== undefined) await this.#publishers.retain(publisherKeys(this.#current));
        }
        return { ok: false, issues: outcome.issues, webhooks: 0, connections: 0 };
      }
      const counts = {
        webhooks: outcome.webhooks.size,
        connections: Object.keys(outcome.config.connections).length,
      };
      if (options.validateOnly === true) return { ok: true, issues: [], ...counts };
      this.#current = outcome;
      this.#lastReloadAt = new Date();
      this.#lastFailure = undefined;
      await this.#publishers.retain(publisherKeys(outcome));
      await this.#options.channels?.apply(outcome.webhooks).catch((error: unknown) => {
        this.#options.logger.error({ err: error }, 'webhook connect channels not registered');
      });
      this.#options.logger.info(counts, 'configuration reloaded');
      return { ok: true, issues: [], ...counts };
    } finally {
      if (options.validateOnly === true) await cache.closeAll();
      this.#reloading = false;
    }
  }

  /** Closes every publisher (shutdown). */
  async close(): Promise<void> {
    await this.#publishers.closeAll();
  }

  async #compile(cache: PublisherCache): Promise<CompiledConfig | { issues: readonly ConfigIssue[] }> {
    const { settings, authRegistry, moduleRegistry, logger } = this.#options;
    const loaded = loadConfig({
      webhooksFile: settings.WEBHOOKS_CONFIG_FILE,
      connectionsFile: settings.CONNECTIONS_CONFIG_FILE,
      env: this.#options.env,
      authRegistry,
      moduleRegistry,
      isValidWebhookId,
    });
    if (!loaded.ok) return { issues: loaded.issues };
    const config = loaded.config;
    const label = config.webhooksFile.split(/[\\/]/).pop() ?? config.webhooksFile;
    const issues: ConfigIssue[] = [];
    const webhooks = new Map<string, CompiledWebhook>();
    const dispatcherOptions: DispatcherOptions = {
      registry: moduleRegistry,
      cache,
      deps: this.#options.moduleDeps,
      ...(this.#options.onDelivery === undefined ? {} : { onResult: this.#options.onDelivery }),
    };
    for (const definition of config.webhooks.values()) {
      const trustedProxies = definition.trustedProxies ?? settings.TRUSTED_PROXY_IPS;
      try {
        const verifiers = await Promise.all(
          definition.auth.map(async ({ type, config: authConfig }) => {
            const method = authRegistry.get(type);
            if (method === undefined) throw new Error(`authentication method '${type}' is not available`);
            const verify = await method.create(authConfig, {
              webhookId: definition.id,
              logger: logger.child({ webhook: definition.id, auth: type }),
              now: Date.now,
              trustedProxies: trustedProxies.map((range) => range.text),
            });
            return { type, verify };
          }),
        );
        const dispatcher = await createDispatcher(definition.plan, dispatcherOptions);
        webhooks.set(definition.id, {
          definition,
          verifiers,
          trustedProxies,
          maxBodyBytes: definition.entry.max_body_bytes ?? settings.MAX_BODY_BYTES,
          dispatcher,
          cleaner: createCredentialCleaner(definition.entry.credential_cleanup),
          retryEnabled: definition.plan.kind === 'single' && definition.plan.target.retry?.enabled === true,
        });
      } catch (error) {
        // A coded refusal (e.g. WC_SSRF_BLOCKED for a target URL) keeps its code in the report.
        const coded = isWebhookConnectError(error) ? ` [${error.code}]` : '';
        issues.push({ file: label, path: [definition.id], message: `${(error as Error).message}${coded}` });
      }
    }
    if (issues.length === 0 && this.#options.channels !== undefined)
      issues.push(...this.#options.channels.validate(webhooks, label));
    if (issues.length > 0) return { issues };
    return { config, webhooks, loadedAt: new Date() };
  }
}

function publisherKeys(compiled: CompiledConfig): string[] {
  return [...compiled.webhooks.values()].flatMap((webhook) => webhook.dispatcher.publisherKeys);
}

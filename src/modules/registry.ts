/**
 * The explicit registry of output modules. Built-ins are imported by name; no filesystem scanning.
 * Every module lives in `src/modules/<kebab-case of its type>/` and has a `## <type>` section in
 * docs/modules.md (a test keeps the three in step). Names are validated on every lookup and registration
 * (reference spec §4.0).
 */
import { WebhookConnectError } from '../shared/errors.js';
import { httpWebhookModule } from './http-webhook/index.js';
import { logModule } from './log/index.js';
import { saveToDiskModule } from './save-to-disk/index.js';
import type { ModuleDescriptor } from './types.js';
import { webhookConnectModule } from './webhook-connect/index.js';

/** Why `name` is not a valid module name, or undefined when it is. */
export function moduleNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  const value = name.trim();
  if (value === '') return 'must not be empty';
  if (value.length > 64) return 'must be at most 64 characters';
  if (value.includes('..') || value.includes('/') || value.includes('\\') || value.includes('\0')) {
    return 'must not contain path characters';
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/.test(value)) {
    return 'must start with a letter or digit and contain only letters, digits, _ and -';
  }
  if (value.includes('--') || value.includes('__')) return 'must not contain -- or __';
  return undefined;
}

/** The folder of a module: the kebab-case of its type (`save_to_disk` → `save-to-disk`). */
export function moduleFolderName(type: string): string {
  return type.replaceAll('_', '-');
}

export class ModuleRegistry {
  readonly #modules = new Map<string, ModuleDescriptor>();
  readonly #aliases = new Map<string, string>();

  constructor(modules: Iterable<ModuleDescriptor<never>> = []) {
    for (const module of modules) this.register(module);
  }

  /** Adds a module (runtime registration of extra modules is supported). Throws on bad or duplicate names. */
  register(module: ModuleDescriptor<never>): void {
    for (const name of [module.type, ...(module.aliases ?? [])]) {
      const problem = moduleNameProblem(name);
      if (problem !== undefined) throw new Error(`invalid module name '${name}': ${problem}`);
      if (this.#modules.has(name) || this.#aliases.has(name)) {
        throw new Error(`module '${name}' registered twice`);
      }
    }
    this.#modules.set(module.type, module as unknown as ModuleDescriptor);
    for (const alias of module.aliases ?? []) this.#aliases.set(alias, module.type);
  }

  /** The descriptor for a type or alias; undefined when unknown or when the name is invalid. */
  get(name: string): ModuleDescriptor | undefined {
    if (moduleNameProblem(name) !== undefined) return undefined;
    const value = name.trim();
    return this.#modules.get(value) ?? this.#modules.get(this.#aliases.get(value) ?? '');
  }

  /**
   * Like `get`, but throws `WC_MODULE_UNAVAILABLE` (501) for invalid and unknown names, with a detail
   * that names the module.
   */
  require(name: string): ModuleDescriptor {
    const problem = moduleNameProblem(name);
    if (problem !== undefined) {
      throw new WebhookConnectError('WC_MODULE_UNAVAILABLE', { detail: `Invalid module name: ${problem}` });
    }
    const module = this.get(name);
    if (module === undefined) {
      throw new WebhookConnectError('WC_MODULE_UNAVAILABLE', { detail: `Unknown module '${name.trim()}'` });
    }
    return module;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Registered canonical types, in registration order (aliases excluded). */
  types(): string[] {
    return [...this.#modules.keys()];
  }
}

/** The built-in modules. Each module's folder adds itself here. */
export function builtinModules(): ModuleDescriptor<never>[] {
  return [
    logModule as ModuleDescriptor<never>,
    saveToDiskModule as ModuleDescriptor<never>,
    httpWebhookModule as ModuleDescriptor<never>,
    webhookConnectModule as ModuleDescriptor<never>,
  ];
}

export function createModuleRegistry(): ModuleRegistry {
  return new ModuleRegistry(builtinModules());
}

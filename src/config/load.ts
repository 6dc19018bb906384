/**
 * Loads webhooks.json and connections.json into one validated, deep-frozen `AppConfig`, or reports every
 * problem found with its file and path. Steps: read (JSON/YAML) → `{$VAR}` substitution → entry schema →
 * authentication configs (auth registry) → modules, their `module-config` and connections (module
 * registry) → cross-entry rules. Nothing is created here: turning definitions into live verifiers and
 * publishers is the receiver's job.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { AuthRegistry } from '../auth/registry.js';
import { AUTH_ORDER } from '../auth/registry.js';
import type { ModuleDescriptor } from '../modules/types.js';
import { planDispatch, type DispatchPlan } from '../modules/dispatch.js';
import type { IpRange } from '../shared/ip.js';
import { parseIpRange } from '../shared/ip.js';
import { readConfigFile } from './files.js';
import type { ConfigIssue } from './issues.js';
import { issuesFromZod } from './report.js';
import { connectionEntrySchema, isCommentKey, webhookEntrySchema, type WebhookEntry } from './schema.js';
import { substituteVariables } from './substitute.js';

/** The module registry as the loader needs it. */
export interface ModuleLookup {
  get(name: string): ModuleDescriptor | undefined;
}

export interface AuthDefinition {
  readonly type: string;
  readonly config: unknown;
}

export interface WebhookDefinition {
  /** The webhooks.json key. */
  readonly id: string;
  readonly entry: WebhookEntry;
  /** Configured authentication methods in run order. */
  readonly auth: readonly AuthDefinition[];
  readonly trustedProxies: readonly IpRange[] | undefined;
  readonly jsonSchema: ValidateFunction | undefined;
  readonly plan: DispatchPlan;
}

export interface AppConfig {
  readonly webhooks: ReadonlyMap<string, WebhookDefinition>;
  readonly connections: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly webhooksFile: string;
  readonly connectionsFile: string;
}

export interface LoadOptions {
  readonly webhooksFile: string;
  readonly connectionsFile: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly authRegistry: AuthRegistry;
  readonly moduleRegistry: ModuleLookup;
  /** Validates webhook ids; entries whose key can never be addressed are errors. */
  readonly isValidWebhookId: (id: string) => boolean;
}

export type LoadResult = { ok: true; config: AppConfig } | { ok: false; issues: ConfigIssue[] };

type Path = readonly (string | number)[];

export function loadConfig(options: LoadOptions): LoadResult {
  const issues: ConfigIssue[] = [];
  const webhooksLabel = labelOf(options.webhooksFile);
  const connectionsLabel = labelOf(options.connectionsFile);

  const rawWebhooks = readAndSubstitute(options.webhooksFile, webhooksLabel, options.env, issues, false);
  const rawConnections = readAndSubstitute(
    options.connectionsFile,
    connectionsLabel,
    options.env,
    issues,
    true,
  );

  const connections: Record<string, Record<string, unknown>> = {};
  for (const [name, value] of Object.entries(rawConnections ?? {})) {
    if (isCommentKey(name)) continue;
    const parsed = connectionEntrySchema.safeParse(value);
    if (!parsed.success) issues.push(...issuesFromZod(parsed.error, connectionsLabel, [name]));
    else connections[name] = parsed.data;
  }

  const ajv = new Ajv({ allErrors: false, strict: false });
  const webhooks = new Map<string, WebhookDefinition>();
  for (const [id, value] of Object.entries(rawWebhooks ?? {})) {
    if (isCommentKey(id)) continue;
    const definition = loadWebhook(id, value, { ...options, connections, ajv, label: webhooksLabel }, issues);
    if (definition !== undefined) webhooks.set(id, definition);
  }

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    config: deepFreeze({
      webhooks,
      connections,
      webhooksFile: options.webhooksFile,
      connectionsFile: options.connectionsFile,
    }),
  };
}

function labelOf(filePath: string): string {
  return filePath.split(/[\\/]/).pop() ?? filePath;
}

function readAndSubstitute(
  filePath: string,
  label: string,
  env: LoadOptions['env'],
  issues: ConfigIssue[],
  optional: boolean,
): Record<string, unknown> | undefined {
  const read = readConfigFile(filePath, label);
  if (!read.ok) {
    if (optional && read.issue.message.startsWith('file not found')) return {};
    issues.push(read.issue);
    return undefined;
  }
  const substituted = substituteVariables(withoutComments(read.data), env, label);
  issues.push(...substituted.issues);
  return substituted.value as Record<string, unknown>;
}

/** Drops `_`-prefixed comment keys (top level and one level down) so their text is never substituted. */
function withoutComments(data: unknown): unknown {
  const strip = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).filter(([key]) => !isCommentKey(key)),
    );
  };
  const top = strip(data);
  if (top === null || typeof top !== 'object' || Array.isArray(top)) return top;
  return Object.fromEntries(
    Object.entries(top as Record<string, unknown>).map(([key, value]) => [key, strip(value)]),
  );
}

interface WebhookContext extends LoadOptions {
  readonly connections: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly ajv: Ajv;
  readonly label: string;
}

function loadWebhook(
  id: string,
  value: unknown,
  context: WebhookContext,
  issues: ConfigIssue[],
): WebhookDefinition | undefined {
  const { label, authRegistry } = context;
  const issueCount = issues.length;
  const at = (path: Path, message: string) => issues.push({ file: label, path: [id, ...path], message });

  if (id !== 'default' && !context.isValidWebhookId(id)) {
    at([], 'not a valid webhook id (letters, digits, _ and -, at most 64, not reserved)');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    at([], 'expected an object');
    return undefined;
  }

  // Split authentication keys (validated by their methods) from the entry's own keys.
  const entryInput: Record<string, unknown> = {};
  const auth: AuthDefinition[] = [];
  const credentialHeaders = new Map<string, string>();
  for (const [key, keyValue] of Object.entries(value as Record<string, unknown>)) {
    if (isCommentKey(key)) continue;
    const method = authRegistry.get(key);
    if (method === undefined) {
      if ((AUTH_ORDER as readonly string[]).includes(key)) {
        at([key], `authentication method '${key}' is not available in this build`);
      } else {
        entryInput[key] = keyValue;
      }
      continue;
    }
    const parsed = method.schema.safeParse(keyValue);
    if (!parsed.success) {
      issues.push(...issuesFromZod(parsed.error, label, [id, key]));
      continue;
    }
    auth.push({ type: key, config: parsed.data });
    for (const header of method.credentialHeaders?.(parsed.data) ?? []) {
      const other = credentialHeaders.get(header);
      if (other !== undefined) {
        at([key], `'${key}' and '${other}' both read the ${header} header; they can never both pass`);
      }
      credentialHeaders.set(header, key);
    }
  }
  const order = authRegistry.types();
  auth.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));

  const parsed = webhookEntrySchema.safeParse(entryInput);
  if (!parsed.success) {
    issues.push(...issuesFromZod(parsed.error, label, [id]));
    return undefined;
  }
  const entry = parsed.data;

  let jsonSchema: ValidateFunction | undefined;
  if (entry.json_schema !== undefined) {
    try {
      jsonSchema = context.ajv.compile(entry.json_schema);
    } catch (error) {
      at(['json_schema'], `invalid JSON schema: ${(error as Error).message}`);
    }
  }

  const plan = resolvePlan(id, entry, context, at);
  if (issues.length > issueCount || plan === undefined) return undefined;
  return {
    id,
    entry,
    auth,
    trustedProxies: entry.trusted_proxies?.map((text) => parseIpRange(text) as IpRange),
    jsonSchema,
    plan,
  };
}

/**
 * Builds the delivery plan through the module framework's `planDispatch` (one place decides chain merging
 * and connection inheritance) and validates each target here so every problem is reported with its path.
 */
function resolvePlan(
  id: string,
  entry: WebhookEntry,
  context: WebhookContext,
  at: (path: Path, message: string) => void,
): DispatchPlan | undefined {
  let plan: DispatchPlan;
  try {
    plan = planDispatch(id, entry, (name) => context.connections[name]);
  } catch (error) {
    at(entry.chain === undefined ? ['connection'] : ['chain'], (error as Error).message);
    return undefined;
  }
  const targets = plan.kind === 'single' ? [plan.target] : plan.items;
  let valid = true;
  targets.forEach((target, index) => {
    const prefix: Path = plan.kind === 'chain' ? ['chain', index] : [];
    const problem = (path: Path, message: string) => {
      valid = false;
      at([...prefix, ...path], message);
    };
    const descriptor = context.moduleRegistry.get(target.module);
    if (descriptor === undefined) {
      problem(['module'], `unknown module '${target.module}'`);
      return;
    }
    const connection = target.connection;
    if (connection !== undefined && descriptor.connectionTypes !== undefined) {
      if (!descriptor.connectionTypes.includes(String(connection.details.type))) {
        problem(
          ['connection'],
          `connection '${connection.name}' has type '${String(connection.details.type)}'; module '${descriptor.type}' needs ${descriptor.connectionTypes.join(' or ')}`,
        );
      }
    } else if (connection === undefined && descriptor.requiresConnection === true) {
      problem(['connection'], `module '${descriptor.type}' requires a connection`);
    }
    const parsed = descriptor.schema.safeParse(target.moduleConfig);
    if (!parsed.success) {
      for (const issue of issuesFromZod(parsed.error, '', ['module-config']))
        problem(issue.path, issue.message);
    }
  });
  return valid ? plan : undefined;
}

/** Freezes plain objects, arrays and maps; live objects (schemas, descriptors, validators) are left alone. */
function deepFreeze<T>(value: T): T {
  if (value instanceof Map) {
    for (const item of value.values()) deepFreeze(item);
    return value;
  }
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return value;
  for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}

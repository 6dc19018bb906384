/**
 * The explicit registry of authentication methods. Built-ins are imported by name; no scanning.
 * `AUTH_ORDER` is the order in which configured methods run on a request (the reference's order, with
 * our `provider` presets right after `hmac`); methods not listed run after these, in registration order.
 */
import type { AuthMethod } from './types.js';
import { authorizationMethod } from './authorization/index.js';
import { basicAuthMethod } from './basic-auth/index.js';
import { digestAuthMethod } from './digest-auth/index.js';
import { hmacMethod } from './hmac/index.js';
import { headerAuthMethod } from './header-auth/index.js';
import { ipWhitelistMethod } from './ip-whitelist/index.js';
import { jwtMethod } from './jwt/index.js';
import { oauth1Method } from './oauth1/index.js';
import { oauth2Method } from './oauth2/index.js';
import { queryAuthMethod } from './query-auth/index.js';
import { recaptchaMethod } from './recaptcha/index.js';
import { providerMethod } from './provider/index.js';

export const AUTH_ORDER = [
  'recaptcha',
  'basic_auth',
  'digest_auth',
  'jwt',
  'oauth1',
  'oauth2',
  'authorization',
  'hmac',
  'provider',
  'ip_whitelist',
  'query_auth',
  'header_auth',
] as const;

export class AuthRegistry {
  readonly #methods = new Map<string, AuthMethod>();

  constructor(methods: Iterable<AuthMethod<never>> = []) {
    for (const method of methods) this.register(method);
  }

  register(method: AuthMethod<never>): void {
    if (this.#methods.has(method.type)) throw new Error(`auth method '${method.type}' registered twice`);
    this.#methods.set(method.type, method as unknown as AuthMethod);
  }

  get(type: string): AuthMethod | undefined {
    return this.#methods.get(type);
  }

  has(type: string): boolean {
    return this.#methods.has(type);
  }

  /** Registered method types in run order. */
  types(): string[] {
    const ordered: string[] = AUTH_ORDER.filter((type) => this.#methods.has(type));
    for (const type of this.#methods.keys()) if (!ordered.includes(type)) ordered.push(type);
    return ordered;
  }
}

/** The built-in methods. Each method's folder adds itself here. */
export function builtinAuthMethods(): AuthMethod<never>[] {
  return [
    erase(authorizationMethod),
    erase(basicAuthMethod),
    erase(hmacMethod),
    erase(providerMethod),
    erase(headerAuthMethod),
    erase(queryAuthMethod),
    erase(ipWhitelistMethod),
    erase(jwtMethod),
    erase(oauth2Method),
    erase(recaptchaMethod),
    erase(digestAuthMethod),
    erase(oauth1Method),
  ];
}

/** Forgets a method's config type so methods of different configs share one list. */
function erase<C>(method: AuthMethod<C>): AuthMethod<never> {
  return method as unknown as AuthMethod<never>;
}

export function createAuthRegistry(): AuthRegistry {
  return new AuthRegistry(builtinAuthMethods());
}

/** Two or more configured methods that take their credential from the same request header. */
export interface CredentialConflict {
  /** Lower-case header name. */
  readonly header: string;
  /** The method types (config keys) that read it, in run order. */
  readonly types: readonly string[];
}

/**
 * Finds configured methods that read the same credential header (e.g. `authorization` + `jwt` both
 * read `Authorization`; both can never pass). `configs` maps each configured type to its parsed config.
 * The loader reports each conflict as a config error.
 */
export function findCredentialConflicts(
  registry: AuthRegistry,
  configs: Readonly<Record<string, unknown>>,
): CredentialConflict[] {
  const readers = new Map<string, string[]>();
  for (const type of registry.types()) {
    if (!(type in configs)) continue;
    const method = registry.get(type);
    const headers = method?.credentialHeaders?.(configs[type]) ?? [];
    for (const header of new Set(headers.map((name) => name.toLowerCase()))) {
      const list = readers.get(header) ?? [];
      list.push(type);
      readers.set(header, list);
    }
  }
  return [...readers].filter(([, types]) => types.length > 1).map(([header, types]) => ({ header, types }));
}

/**
 * The explicit registry of authentication methods. Built-ins are imported by name; no scanning.
 * `AUTH_ORDER` is the order in which configured methods run on a request (the reference's order);
 * methods not listed run after these, in registration order.
 */
import type { AuthMethod } from './types.js';

export const AUTH_ORDER = [
  'recaptcha',
  'basic_auth',
  'digest_auth',
  'jwt',
  'oauth1',
  'oauth2',
  'authorization',
  'hmac',
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
  return [];
}

export function createAuthRegistry(): AuthRegistry {
  return new AuthRegistry(builtinAuthMethods());
}

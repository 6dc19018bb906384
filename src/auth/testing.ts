/** Test helpers for auth methods: build `AuthRequest` and `AuthContext` values. Not used at run time. */
import { silentLogger } from '../observability/logger.js';
import type { AuthContext, AuthMethod, AuthRequest, AuthResult, AuthVerifier } from './types.js';

export interface RequestInit {
  method?: string;
  url?: string;
  protocol?: 'http' | 'https';
  host?: string;
  headers?: Record<string, string | undefined>;
  body?: string | Buffer;
  clientIp?: string | undefined;
  peerIp?: string | undefined;
}

/** An `AuthRequest` as the receiver builds it; `url` may carry a query string. */
export function makeRequest(init: RequestInit = {}): AuthRequest {
  const url = init.url ?? '/webhook/test';
  const parsed = new URL(url, 'http://placeholder');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of parsed.searchParams) {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    method: init.method ?? 'POST',
    url,
    path: parsed.pathname,
    protocol: init.protocol ?? 'http',
    host: init.host ?? 'localhost:8000',
    headers,
    rawBody: typeof init.body === 'string' ? Buffer.from(init.body) : (init.body ?? Buffer.alloc(0)),
    query,
    clientIp: 'clientIp' in init ? init.clientIp : '127.0.0.1',
    peerIp: 'peerIp' in init ? init.peerIp : '127.0.0.1',
  };
}

export function makeContext(overrides: Partial<AuthContext> = {}): AuthContext {
  return {
    webhookId: 'test',
    logger: silentLogger(),
    now: () => Date.now(),
    trustedProxies: [],
    ...overrides,
  };
}

/** Parses `raw` with the method's schema (throwing on a config error) and creates the verifier. */
export async function verifierFor<C>(
  method: AuthMethod<C>,
  raw: unknown,
  context: AuthContext = makeContext(),
): Promise<AuthVerifier> {
  const config = method.schema.parse(raw);
  return method.create(config, context);
}

/** Whether the schema refuses `raw` (a fail-open or otherwise unusable config). */
export function rejects<C>(method: AuthMethod<C>, raw: unknown): boolean {
  return !method.schema.safeParse(raw).success;
}

export async function run(verifier: AuthVerifier, request: AuthRequest): Promise<AuthResult> {
  return verifier(request);
}

/** Request helpers shared by the streaming and admin routes. */
import type { IncomingHttpHeaders } from 'node:http';
import { bufferUnavailableError } from '../buffer/errors.js';
import { isWebhookConnectError, WebhookConnectError } from '../shared/errors.js';
import { resolveClientIp, type IpRange } from '../shared/ip.js';

/**
 * The token of a request: `Authorization` with `Bearer ` removed and trimmed (the reference's rule),
 * else the `token` query parameter when `allowQuery`. Undefined when none is given.
 */
export function presentedToken(
  headers: IncomingHttpHeaders,
  query: Readonly<Record<string, unknown>> | undefined,
  allowQuery: boolean,
): string | undefined {
  const header = headers.authorization;
  if (typeof header === 'string' && header.trim() !== '') {
    if (/[\r\n\0]/.test(header)) return '';
    const value = header.trim();
    return value.startsWith('Bearer ') ? value.slice('Bearer '.length).trim() : value;
  }
  const fromQuery = query?.token;
  if (allowQuery && typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  return undefined;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function clientIp(
  peer: string | undefined,
  headers: IncomingHttpHeaders,
  trustedProxies: readonly IpRange[],
): string | undefined {
  return resolveClientIp(
    peer,
    {
      'x-forwarded-for': headerValue(headers, 'x-forwarded-for'),
      'x-real-ip': headerValue(headers, 'x-real-ip'),
    },
    trustedProxies,
  );
}

/** Runs a buffer operation; an uncoded failure becomes `WC_BUFFER_UNAVAILABLE` (503 + Retry-After). */
export async function viaBuffer<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isWebhookConnectError(error)) throw error;
    throw bufferUnavailableError(error);
  }
}

/** The JSON object of a request body; undefined for an empty body; 422 when it is not a JSON object. */
export function jsonObjectBody(body: unknown): Record<string, unknown> | undefined {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidRequest('body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidRequest('body must be a JSON object');
  return value as Record<string, unknown>;
}

export function invalidRequest(detail: string): WebhookConnectError {
  return new WebhookConnectError('WC_CONNECT_REQUEST_INVALID', { detail });
}

/** An integer query parameter within bounds (422 otherwise). */
export function intParam(
  query: Readonly<Record<string, unknown>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const text = Array.isArray(raw) ? String(raw[raw.length - 1]) : String(raw);
  if (!/^-?\d+$/.test(text.trim())) throw invalidRequest(`${name} must be an integer`);
  const value = Number(text);
  if (value < min || value > max) throw invalidRequest(`${name} must be between ${min} and ${max}`);
  return value;
}

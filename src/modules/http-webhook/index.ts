/**
 * `http_webhook`: sends each webhook to an HTTP(S) URL (reference §4.6, fixing §10.3 items 28 and 39).
 *
 * One attempt per `deliver`; retries come from the webhook-level `retry` (see retry.ts). The body is the
 * JSON payload (`application/json`), or the raw bytes with the original content type for blob payloads.
 * Headers: the webhook's own (cleaned) headers when `forward_headers` (filtered by `allowed_headers`),
 * then `Content-Type`, then the configured `headers`; all sanitised (hop-by-hop and framing headers
 * dropped, invalid names, CR/LF/NUL/U+2028/U+2029/VT/FF in values, over-long names and values dropped).
 *
 * SSRF: the URL is checked at `create` (syntax, IP literals, metadata names) and every connection goes
 * through the guarded `lookup`, so the socket reaches only an address that was checked. node:http is used
 * (not fetch) so the lookup can be pinned. Redirects are not followed (a 3xx is a permanent failure).
 *
 * Outcome: 2xx resolves; 5xx, 408, 425, 429, network errors and timeouts throw `TransientDeliveryError`;
 * other statuses `PermanentDeliveryError`; a refused address `WC_SSRF_BLOCKED` (permanent).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  isTransientHttpStatus,
  PermanentDeliveryError,
  TransientDeliveryError,
} from '../../shared/delivery-errors.js';
import { WebhookConnectError } from '../../shared/errors.js';
import {
  createGuardedLookup,
  extendOutboundPolicy,
  isHostAllowListed,
  parseOutboundUrl,
} from '../../shared/ssrf.js';
import type { ModuleDescriptor, Publisher, WebhookEvent } from '../types.js';
import { httpWebhookConfigSchema, type HttpWebhookConfig } from './schema.js';

/** Headers never forwarded or set from config: hop-by-hop and message framing. */
const DROPPED_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'content-length',
]);
/** Forwarded-only drops: the body is re-encoded, so the original framing no longer applies. */
const NOT_FORWARDED = new Set(['content-type', 'content-encoding', 'expect']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\r\n\0\u2028\u2029\u000b\u000c]/;
const MAX_NAME = 200;
const MAX_VALUE = 8192;
/** Response bytes read (then discarded) so the connection can be reused. */
const MAX_RESPONSE_DRAIN = 64 * 1024;

/** Copies the headers that are safe to send; names lower-cased, values trimmed. */
export function sanitiseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.trim().toLowerCase();
    if (name.length > MAX_NAME || !TOKEN.test(name) || DROPPED_HEADERS.has(name)) continue;
    if (typeof rawValue !== 'string' || BAD_VALUE.test(rawValue)) continue;
    const value = rawValue.trim();
    if (value.length > MAX_VALUE) continue;
    safe[name] = value;
  }
  return safe;
}

function configError(detail: string, cause?: unknown): WebhookConnectError {
  return new WebhookConnectError('WC_MODULE_UNAVAILABLE', { detail: `http_webhook: ${detail}`, cause });
}

function drain(response: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    response.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > MAX_RESPONSE_DRAIN) response.destroy();
    });
    response.on('end', resolve);
    response.on('close', resolve);
    response.on('error', () => resolve());
  });
}

export const httpWebhookModule: ModuleDescriptor<HttpWebhookConfig> = {
  type: 'http_webhook',
  schema: httpWebhookConfigSchema,
  // `url` can embed credentials and `headers` usually carry them.
  secretFields: ['url', 'headers'],
  create(instance, deps): Publisher {
    const config = instance.moduleConfig;
    const policy = extendOutboundPolicy(deps.outbound, config.allowed_hosts ?? []);
    const url = parseOutboundUrl(config.url, policy);
    if (
      config.allowed_hosts !== undefined &&
      !isHostAllowListed(url.hostname, { allowedHosts: config.allowed_hosts })
    ) {
      throw configError('url host is not in allowed_hosts');
    }
    const https = url.protocol === 'https:';
    const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const lookup = createGuardedLookup(policy);
    const configHeaders = sanitiseHeaders(config.headers);
    const allowed =
      config.allowed_headers === undefined
        ? undefined
        : new Set(config.allowed_headers.map((name) => name.trim().toLowerCase()));
    const timeoutMs = config.timeout * 1000;
    const send = https ? httpsRequest : httpRequest;

    const buildHeaders = (event: WebhookEvent, blob: boolean): Record<string, string> => {
      const headers: Record<string, string> = {};
      if (config.forward_headers) {
        for (const [name, value] of Object.entries(sanitiseHeaders(event.headers))) {
          if (NOT_FORWARDED.has(name) || (allowed !== undefined && !allowed.has(name))) continue;
          headers[name] = value;
        }
      }
      headers['content-type'] = blob ? (event.contentType ?? 'application/octet-stream') : 'application/json';
      return Object.assign(headers, configHeaders);
    };

    return {
      deliver(event, signal) {
        signal.throwIfAborted();
        const blob = Buffer.isBuffer(event.payload);
        const body = blob ? (event.payload as Buffer) : Buffer.from(JSON.stringify(event.payload) ?? 'null');
        const headers = { ...buildHeaders(event, blob), 'content-length': String(body.length) };
        const timeout = AbortSignal.timeout(timeoutMs);
        const combined = AbortSignal.any([signal, timeout]);
        return new Promise<void>((resolve, reject) => {
          const fail = (error: unknown) => {
            if (signal.aborted) reject(signal.reason);
            else if (timeout.aborted) {
              reject(
                new TransientDeliveryError(`http_webhook: timed out after ${config.timeout}s`, {
                  cause: error,
                }),
              );
            } else reject(error); // network errors and WC_SSRF_BLOCKED, classified by the caller
          };
          const req = send(
            url,
            { method: config.method, headers, agent, lookup, signal: combined },
            (response) => {
              const status = response.statusCode ?? 0;
              drain(response).then(() => {
                if (status >= 200 && status < 300) resolve();
                else if (isTransientHttpStatus(status)) {
                  reject(new TransientDeliveryError(`http_webhook: target answered ${status}`));
                } else reject(new PermanentDeliveryError(`http_webhook: target answered ${status}`));
              }, fail);
            },
          );
          req.on('error', fail);
          req.end(body);
        });
      },
      async close() {
        agent.destroy();
      },
    };
  },
};

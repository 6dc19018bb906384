/**
 * HTTP mode: each message goes to `targets[webhook_id]` or `default_target`, as the exact original
 * bytes (the frame's `body`; a relay that sends no `body` — the reference — gets its `payload`
 * serialised) with the original `Content-Type` and the provider's own headers, so the local application
 * can verify the provider's signature. Hop-by-hop headers, `Host` and `Content-Length` are not copied.
 * Added: `X-Webhook-Message-Id`, `X-Webhook-Id`, `X-Webhook-Delivery-Count` and `Idempotency-Key` (the
 * message id: the same on every redelivery). The target's own `headers` win over copied ones.
 *
 * Targets are the operator's own network (usually localhost), so the SSRF guard that protects the
 * receiver's outbound modules is deliberately not applied here.
 *
 * Retries: with `retry_enabled` (default) up to `retry_max_attempts` attempts, waiting
 * `retry_delay_seconds × retry_backoff_multiplier^n` (capped at 60 s) between them; only transient
 * failures are retried. `retry_enabled: false` means exactly one attempt.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { frameBodyBytes, type WebhookFrame } from '../protocol/frames.js';
import { backoffDelayMs, sleep } from '../shared/backoff.js';
import { isTransientHttpStatus } from '../shared/delivery-errors.js';
import type { ConnectorConfig, TargetConfig } from './config.js';
import type { Delivery, DeliveryContext, DeliveryOutcome } from './delivery.js';
import { createAgents, targetTlsOptions, type Agents } from './tls.js';

/** Headers never copied from the original request (RFC 9110 §7.6.1 hop-by-hop, plus framing). */
const NOT_COPIED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'http2-settings',
]);

/** The headers of the forwarded request. */
export function forwardHeaders(
  frame: WebhookFrame,
  target: TargetConfig,
  deliveryCount: number,
  bodyLength: number,
): OutgoingHttpHeaders {
  const original = frame.headers ?? {};
  const alsoHopByHop = new Set(
    (original.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(original)) {
    const lower = name.toLowerCase();
    if (NOT_COPIED.has(lower) || alsoHopByHop.has(lower) || typeof value !== 'string') continue;
    headers[lower] = value;
  }
  const contentType =
    frame.content_type ??
    original['content-type'] ??
    (frame.body === undefined ? 'application/json' : undefined);
  if (contentType !== undefined) headers['content-type'] = contentType;
  for (const [name, value] of Object.entries(target.headers)) headers[name.toLowerCase()] = value;
  headers['x-webhook-message-id'] = frame.message_id;
  headers['x-webhook-id'] = frame.webhook_id;
  headers['x-webhook-delivery-count'] = String(deliveryCount);
  headers['idempotency-key'] = frame.message_id;
  headers['content-length'] = String(bodyLength);
  return headers;
}

interface AttemptResult {
  readonly ok: boolean;
  readonly transient: boolean;
  readonly status?: number;
  readonly reason: string;
}

function attempt(
  target: TargetConfig,
  agents: Agents,
  headers: OutgoingHttpHeaders,
  body: Buffer,
  signal: AbortSignal,
): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const https = target.url.startsWith('https:');
    let settled = false;
    const done = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const req = (https ? httpsRequest : httpRequest)(target.url, {
      method: target.method,
      headers,
      agent: https ? agents.https : agents.http,
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, transient: true, reason: `timed out after ${target.timeout_seconds}s` });
    }, target.timeout_seconds * 1000);
    const onAbort = () => {
      req.destroy();
      done({ ok: false, transient: true, reason: 'aborted: connector shutting down' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept < 500) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      res.on('error', (error) => done({ ok: false, transient: true, status, reason: error.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8').slice(0, 300).trim();
        if (status >= 200 && status < 300) done({ ok: true, transient: false, status, reason: '' });
        else
          done({
            ok: false,
            transient: isTransientHttpStatus(status),
            status,
            reason: `HTTP ${status}${text === '' ? '' : `: ${text}`}`,
          });
      });
    });
    req.on('error', (error) => done({ ok: false, transient: true, reason: (error as Error).message }));
    req.end(body);
  });
}

/** Delivers to one target with its retry policy. */
export async function deliverToTarget(
  frame: WebhookFrame,
  target: TargetConfig,
  agents: Agents,
  context: DeliveryContext,
): Promise<DeliveryOutcome> {
  const body = frameBodyBytes(frame);
  const headers = forwardHeaders(frame, target, context.deliveryCount, body.length);
  const attempts = target.retry_enabled ? target.retry_max_attempts : 1;
  let last: AttemptResult = { ok: false, transient: true, reason: 'not attempted' };
  let made = 0;
  for (let index = 0; index < attempts; index++) {
    if (context.signal.aborted) break;
    last = await attempt(target, agents, headers, body, context.signal);
    made += 1;
    if (last.ok || !last.transient || context.signal.aborted) break;
    if (index < attempts - 1) {
      const delay = backoffDelayMs(index, {
        initialMs: target.retry_delay_seconds * 1000,
        maxMs: 60_000,
        multiplier: target.retry_backoff_multiplier,
      });
      await sleep(delay, context.signal).catch(() => undefined);
    }
  }
  const common = {
    target: target.url,
    attempts: made,
    ...(last.status === undefined ? {} : { status: last.status }),
  };
  if (last.ok) return { ...common, result: 'success' };
  if (context.signal.aborted) return { ...common, result: 'aborted', reason: 'connector shutting down' };
  return { ...common, result: last.transient ? 'transient' : 'permanent', reason: last.reason };
}

/** HTTP mode over `default_target` and `targets`, with one keep-alive agent pair per target. */
export function createHttpDelivery(config: ConnectorConfig): Delivery {
  const agents = new Map<TargetConfig, Agents>();
  const agentsFor = (target: TargetConfig) => {
    let found = agents.get(target);
    if (found === undefined) {
      found = createAgents(targetTlsOptions(target), Math.max(config.max_concurrent_requests, 1));
      agents.set(target, found);
    }
    return found;
  };
  // Read CA files at startup so a bad path fails now, not on the first message.
  for (const target of [config.default_target, ...Object.values(config.targets)])
    if (target != null) agentsFor(target);
  return {
    async deliver(frame, context) {
      const target =
        (Object.hasOwn(config.targets, frame.webhook_id) ? config.targets[frame.webhook_id] : undefined) ??
        config.default_target ??
        undefined;
      if (target === undefined) {
        return {
          result: 'permanent',
          target: '-',
          attempts: 0,
          reason: `no target for webhook_id '${frame.webhook_id}' and no default_target`,
        };
      }
      return deliverToTarget(frame, target, agentsFor(target), context);
    },
    async close() {
      for (const pair of agents.values()) pair.destroy();
    },
  };
}

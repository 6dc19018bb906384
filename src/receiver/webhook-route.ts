/**
 * `POST /webhook/{id}` and `POST /webhook/{namespace}/{id}`: the request pipeline.
 *
 * onRequest (before a byte of body is read): id/namespace rules (400) → route lookup, `default`
 * catch-all (404) → header limits (400/431) → declared Content-Length over the limit (413).
 * Body: read with the webhook's limit enforced while reading (413).
 * Handler: authentication over the raw bytes in the reference's order (401) → rate limit (429) → parse
 * by `data_type` (400) → JSON schema (400) → credential cleanup → deliver: synchronous modules are awaited
 * (the answer reflects the outcome), others run in the task pool (200, or 200/202 with `retry`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRequest } from '../auth/types.js';
import type { DispatchResult } from '../modules/dispatch.js';
import type { WebhookEvent } from '../modules/types.js';
import { DeadlineSignals } from '../shared/deadline-signals.js';
import { isWebhookConnectError, WebhookConnectError } from '../shared/errors.js';
import { ipInRanges, resolveClientIp } from '../shared/ip.js';
import { tooLarge } from './body.js';
import { checkHeaders, parseJsonBody, validateNamespace, validateWebhookId } from './limits/index.js';
import { rateLimitedError } from './rate-limit/index.js';
import type { CompiledWebhook } from './runtime.js';
import type { ReceiverContext } from './context.js';

/** What onRequest resolved for a webhook request. */
export interface WebhookRequestState {
  readonly route: CompiledWebhook;
  /** The id as addressed (`namespace/id` for namespaced routes): the stats and rate-limit key. */
  readonly pathId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    webhookState?: WebhookRequestState;
  }
}

interface WebhookParams {
  id: string;
  namespace?: string;
}

const RETRY_PEEK_MS = 100;

export function registerWebhookRoutes(app: FastifyInstance, context: ReceiverContext): void {
  const { settings } = context;
  const headerLimits = { maxCount: settings.MAX_HEADER_COUNT, maxTotalBytes: settings.MAX_HEADER_BYTES };
  // `TASK_TIMEOUT` of synchronous deliveries (the sender waits): one shared timer per 50 ms slot.
  const syncDeadlines = new DeadlineSignals(settings.TASK_TIMEOUT * 1000);

  const resolveRoute = (request: FastifyRequest<{ Params: WebhookParams }>) => {
    const { id, namespace } = request.params;
    if (namespace !== undefined) validateNamespace(namespace);
    const webhooks = context.runtime.current.webhooks;
    let route = webhooks.get(id);
    // A configured id passed the same rules when the config was loaded: only other ids are checked here.
    if (route === undefined) {
      validateWebhookId(id);
      route = webhooks.get('default');
      if (route === undefined) throw new WebhookConnectError('WC_WEBHOOK_NOT_FOUND');
    }
    checkHeaders(request.raw.rawHeaders, headerLimits);
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > route.maxBodyBytes)
      throw tooLarge(declared, route.maxBodyBytes);
    request.webhookState = { route, pathId: namespace === undefined ? id : `${namespace}/${id}` };
  };
  // A callback hook (not an async one): no promise and no microtask turn per request.
  const onRequest = (
    request: FastifyRequest<{ Params: WebhookParams }>,
    _reply: FastifyReply,
    done: (error?: Error) => void,
  ) => {
    try {
      resolveRoute(request);
    } catch (error) {
      return done(error as Error);
    }
    done();
  };

  const handle = async (request: FastifyRequest<{ Params: WebhookParams }>, reply: FastifyReply) => {
    const state = request.webhookState as WebhookRequestState;
    const { route, pathId } = state;
    const { definition } = route;
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const headers = flattenHeaders(request.headers);

    if (route.verifiers.length > 0) {
      const authRequest = toAuthRequest(request, headers, rawBody, route);
      for (const { verify } of route.verifiers) {
        const result = await verify(authRequest);
        if (!result.ok) {
          throw new WebhookConnectError(result.code, {
            detail: result.detail,
            ...(result.challenge === undefined ? {} : { headers: { 'www-authenticate': result.challenge } }),
          });
        }
      }
    }

    const rateLimit = definition.entry.rate_limit;
    if (rateLimit !== undefined) {
      const decision = context.webhookLimiter.check(pathId, rateLimit.max_requests, rateLimit.window_seconds);
      if (!decision.allowed) throw rateLimitedError(decision);
    }

    const contentType = headers['content-type'];
    const payload: unknown =
      definition.entry.data_type === 'blob' ? rawBody : parseJsonBody(rawBody, contentType);
    if (definition.jsonSchema !== undefined) {
      const instance = definition.entry.data_type === 'blob' ? parseJsonBody(rawBody, contentType) : payload;
      if (!definition.jsonSchema(instance)) {
        const first = definition.jsonSchema.errors?.[0];
        const where = first === undefined || first.instancePath === '' ? '/' : first.instancePath;
        throw new WebhookConnectError('WC_SCHEMA_VALIDATION_FAILED', {
          detail: `JSON schema validation failed at ${where}: ${first?.message ?? 'invalid'}`,
        });
      }
    }

    const event: WebhookEvent = {
      webhookId: pathId,
      configKey: definition.id,
      messageId: randomUUID(),
      receivedAt: new Date(),
      payload: route.cleaner.cleanPayload(payload),
      originalPayload: payload,
      headers: route.cleaner.cleanHeaders(headers),
      rawBody,
      rawHeaders: headers,
      contentType,
      query: lastValues(request.query),
    };
    reply.header('x-webhook-message-id', event.messageId);

    if (route.dispatcher.synchronous) {
      const result = await route.dispatcher.run(event, syncDeadlines.signal());
      logOutcome(pathId, event.messageId, result);
      if (!result.success) throw deliveryFailure(result);
      context.stats.increment(pathId);
      return reply.send({ message: '200 OK' });
    }

    let outcome: DispatchResult | undefined;
    const task = await context.tasks.start(async (signal) => {
      outcome = await route.dispatcher.run(event, signal);
      logOutcome(pathId, event.messageId, outcome);
    });
    context.stats.increment(pathId);
    if (!route.retryEnabled) return reply.send({ message: '200 OK' });

    await Promise.race([task.done, new Promise((resolve) => setTimeout(resolve, RETRY_PEEK_MS))]);
    const finished = outcome as DispatchResult | undefined;
    if (finished?.success === true) return reply.send({ message: '200 OK', status: 'processed' });
    return reply.code(202).send({
      message: '202 Accepted',
      status: 'accepted',
      note:
        finished === undefined
          ? 'Request accepted, processing in background'
          : 'Request accepted, processing in background with retries',
    });
  };

  const logOutcome = (pathId: string, messageId: string, result: DispatchResult) => {
    // `success` is "every module succeeded": the failure list is only built when there is one.
    const failed = result.success ? [] : result.results.filter((item) => !item.success);
    if (failed.length === 0) {
      // Checked first so that no log object is built per request at the default level.
      if (context.logger.isLevelEnabled('debug'))
        context.logger.debug({ webhook: pathId, message_id: messageId }, 'webhook delivered');
    } else {
      context.logger.warn(
        {
          webhook: pathId,
          message_id: messageId,
          failures: failed.map((item) => ({
            module: item.module,
            code: item.errorCode,
            error: item.errorMessage,
          })),
        },
        'webhook delivery failed',
      );
    }
  };

  const routeOptions = { onRequest, handler: handle };
  app.post<{ Params: WebhookParams }>('/webhook/:id', routeOptions);
  app.post<{ Params: WebhookParams }>('/webhook/:namespace/:id', routeOptions);
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/webhook/*',
    handler: async (_request, reply) => {
      reply.header('allow', 'POST');
      throw new WebhookConnectError('WC_METHOD_NOT_ALLOWED');
    },
  });
}

/** The error a failed synchronous delivery answers with. */
function deliveryFailure(result: DispatchResult): WebhookConnectError {
  const failed = result.results.find((item) => !item.success);
  const cause = failed?.error;
  if (isWebhookConnectError(cause)) return cause;
  if (isWebhookConnectError(cause?.cause)) return cause.cause;
  return failed?.retryable === false
    ? new WebhookConnectError('WC_DELIVERY_PERMANENT', { cause })
    : new WebhookConnectError('WC_DELIVERY_TRANSIENT', { retryAfterSeconds: 5, cause });
}

function flattenHeaders(headers: FastifyRequest['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function lastValues(query: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (query === null || typeof query !== 'object') return result;
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    if (Array.isArray(value)) result[name] = String(value[value.length - 1] ?? '');
    else if (value !== undefined) result[name] = String(value);
  }
  return result;
}

function toAuthRequest(
  request: FastifyRequest,
  headers: Record<string, string>,
  rawBody: Buffer,
  route: CompiledWebhook,
): AuthRequest {
  const peerIp = request.raw.socket.remoteAddress;
  const clientIp = resolveClientIp(peerIp, headers, route.trustedProxies);
  const viaTrustedProxy = peerIp !== undefined && ipInRanges(peerIp, route.trustedProxies);
  const forwardedProto = viaTrustedProxy ? headers['x-forwarded-proto']?.split(',')[0]?.trim() : undefined;
  const encrypted = (request.raw.socket as { encrypted?: boolean }).encrypted === true;
  const url = request.raw.url ?? request.url;
  const queryIndex = url.indexOf('?');
  return {
    method: request.method.toUpperCase(),
    url,
    path: queryIndex === -1 ? url : url.slice(0, queryIndex),
    protocol: forwardedProto === 'https' || (forwardedProto === undefined && encrypted) ? 'https' : 'http',
    host: (viaTrustedProxy ? headers['x-forwarded-host'] : undefined) ?? headers.host ?? '',
    headers,
    rawBody,
    query: (request.query ?? {}) as AuthRequest['query'],
    clientIp,
    peerIp,
  };
}

/**
 * Operational endpoints: `GET /` (liveness, rate-limited per client IP), `GET /health` (component health,
 * 503 when a component is unhealthy), `GET /stats` (request counters) and `GET /metrics` (Prometheus).
 * `/stats` and `/metrics` require `STATS_AUTH_TOKEN` when it is set and honour `STATS_ALLOWED_IPS`; their
 * per-address rate limit (`STATS_RATE_LIMIT`) is checked first, so it also bounds token guessing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WebhookConnectError } from '../shared/errors.js';
import { ipInRanges, resolveClientIp } from '../shared/ip.js';
import { safeEqual } from '../shared/timing-safe.js';
import type { ReceiverContext } from './context.js';
import type { HealthCheck } from './health.js';
import { rateLimitedError } from './rate-limit/index.js';

const MINUTE = 60;

export function clientIpOf(request: FastifyRequest, context: ReceiverContext): string {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  return (
    resolveClientIp(
      request.raw.socket.remoteAddress,
      { 'x-forwarded-for': header('x-forwarded-for'), 'x-real-ip': header('x-real-ip') },
      context.settings.TRUSTED_PROXY_IPS,
    ) ?? 'unknown'
  );
}

/** Reads `Bearer <token>` or a bare token; refuses header injection characters. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  if (/[\r\n\0]/.test(header)) return '';
  const value = header.trim();
  return value.startsWith('Bearer ') ? value.slice('Bearer '.length).trim() : value;
}

export function registerOpsRoutes(app: FastifyInstance, context: ReceiverContext): void {
  const { settings } = context;

  const limit = (request: FastifyRequest, scope: string, perMinute: number) => {
    const decision = context.endpointLimiter.check(
      `${scope}:${clientIpOf(request, context)}`,
      perMinute,
      MINUTE,
    );
    if (!decision.allowed) {
      throw rateLimitedError(decision, `Rate limit exceeded. Limit: ${perMinute} requests per minute`);
    }
  };

  const guardStats = (request: FastifyRequest) => {
    // Every request counts against the limit, refused ones included: checked after the token, the limit
    // would only ever see callers who already know it, and token guessing would be unlimited.
    limit(request, 'stats_endpoint', settings.STATS_RATE_LIMIT);
    const expected = settings.STATS_AUTH_TOKEN;
    if (expected !== undefined) {
      const token = presentedToken(request);
      if (token === undefined) throw new WebhookConnectError('WC_ADMIN_AUTH_REQUIRED');
      if (token === '' || !safeEqual(token, expected)) throw new WebhookConnectError('WC_ADMIN_AUTH_INVALID');
    }
    const ip = clientIpOf(request, context);
    if (settings.STATS_ALLOWED_IPS.length > 0 && !ipInRanges(ip, settings.STATS_ALLOWED_IPS)) {
      throw new WebhookConnectError('WC_IP_DENIED');
    }
  };

  app.get('/', async (request) => {
    limit(request, 'default_endpoint', settings.DEFAULT_ENDPOINT_RATE_LIMIT);
    return { message: '200 OK' };
  });

  app.get('/health', async (_request, reply) => {
    const publisherChecks: [string, HealthCheck][] = [];
    for (const webhook of context.runtime.current.webhooks.values()) {
      const { publishers } = webhook.dispatcher;
      for (const { type, index, publisher } of publishers) {
        if (publisher.health === undefined) continue;
        const suffix = publishers.length > 1 ? `[${index}]` : '';
        publisherChecks.push([`module:${webhook.definition.id}${suffix}:${type}`, () => publisher.health!()]);
      }
    }
    const report = await context.health.report(publisherChecks);
    reply.code(report.status === 'unhealthy' ? 503 : 200);
    return {
      status: report.status,
      service: 'webhook-service',
      timestamp: Date.now() / 1000,
      components: report.components,
      ...(Object.keys(report.details).length > 0 ? { details: report.details } : {}),
    };
  });

  app.get('/stats', async (request) => {
    guardStats(request);
    return context.stats.snapshot({ sanitizeIds: settings.STATS_SANITIZE_IDS });
  });

  app.get('/metrics', async (request, reply) => {
    guardStats(request);
    reply.header('content-type', context.metrics.contentType);
    return context.metrics.render();
  });
}

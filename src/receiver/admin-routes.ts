/**
 * Configuration admin endpoints, guarded by `CONFIG_RELOAD_ADMIN_TOKEN` (constant-time comparison,
 * `Bearer <token>` or bare token): `POST /admin/reload-config` and `GET /admin/config-status`.
 * Authentication runs before anything else (the reference answered 503 before checking auth). Nothing
 * these endpoints return contains a secret: failures are reported as config issues (path + message), and
 * issue messages never quote configured values.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatIssue } from '../config/report.js';
import { WebhookConnectError } from '../shared/errors.js';
import { safeEqual } from '../shared/timing-safe.js';
import type { ReceiverContext } from './context.js';
import { clientIpOf, presentedToken } from './ops-routes.js';
import { rateLimitedError } from './rate-limit/index.js';

interface ReloadRequest {
  reload_webhooks: boolean;
  reload_connections: boolean;
  validate_only: boolean;
}

function parseReloadRequest(body: unknown): ReloadRequest {
  const defaults: ReloadRequest = { reload_webhooks: true, reload_connections: true, validate_only: false };
  if (!Buffer.isBuffer(body) || body.length === 0) return defaults;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return defaults; // the reference treats a non-JSON body as "use the defaults"
  }
  if (parsed === null || typeof parsed !== 'object') return defaults;
  const fields = parsed as Record<string, unknown>;
  const flag = (name: keyof ReloadRequest) => (name in fields ? Boolean(fields[name]) : defaults[name]);
  return {
    reload_webhooks: flag('reload_webhooks'),
    reload_connections: flag('reload_connections'),
    validate_only: flag('validate_only'),
  };
}

export function registerAdminRoutes(app: FastifyInstance, context: ReceiverContext): void {
  const authenticate = async (request: FastifyRequest) => {
    // Counted before the token is checked, so guessing is limited per address.
    const perMinute = context.settings.ADMIN_RATE_LIMIT;
    const decision = context.endpointLimiter.check(
      `admin_endpoint:${clientIpOf(request, context)}`,
      perMinute,
      60,
    );
    if (!decision.allowed) {
      throw rateLimitedError(decision, `Rate limit exceeded. Limit: ${perMinute} requests per minute`);
    }
    const expected = context.settings.CONFIG_RELOAD_ADMIN_TOKEN;
    if (expected === undefined) throw new WebhookConnectError('WC_ADMIN_DISABLED');
    const token = presentedToken(request);
    if (token === undefined) throw new WebhookConnectError('WC_ADMIN_AUTH_REQUIRED');
    if (token === '' || !safeEqual(token, expected)) throw new WebhookConnectError('WC_ADMIN_AUTH_INVALID');
  };

  app.post('/admin/reload-config', { onRequest: authenticate }, async (request, reply) => {
    const options = parseReloadRequest(request.body);
    const timestamp = new Date().toISOString();
    if (!options.reload_webhooks && !options.reload_connections) {
      return { status: 'error', error: 'No reload operation specified', timestamp };
    }
    // Both files are always read together: a webhook's connection must resolve against the connections
    // that will serve it, so a partial reload could produce a configuration that was never validated.
    const outcome = await context.runtime.reload({ validateOnly: options.validate_only });
    if (outcome.inProgress === true)
      throw new WebhookConnectError('WC_RELOAD_IN_PROGRESS', { retryAfterSeconds: 1 });
    const details = { webhooks_count: outcome.webhooks, connections_count: outcome.connections };
    if (!outcome.ok) {
      reply.code(400);
      return {
        status: 'error',
        code: 'WC_RELOAD_FAILED',
        error: options.validate_only
          ? 'Configuration is invalid'
          : 'Reload failed; the previous configuration is still active',
        issues: outcome.issues.map(formatIssue),
        details,
        timestamp,
      };
    }
    if (options.validate_only) return { status: 'valid', details, timestamp };
    return {
      status: 'success',
      reloaded: { webhooks: true, connections: true },
      details,
      timestamp,
    };
  });

  app.get('/admin/config-status', { onRequest: authenticate }, async () => {
    const { current, status, publishers } = context.runtime;
    return {
      last_reload: status.lastReloadAt?.toISOString() ?? null,
      loaded_at: current.loadedAt.toISOString(),
      reload_in_progress: status.reloadInProgress,
      last_reload_error:
        status.lastFailure === undefined
          ? null
          : { at: status.lastFailure.at.toISOString(), issues: status.lastFailure.issues.map(formatIssue) },
      webhooks_count: current.webhooks.size,
      connections_count: Object.keys(current.config.connections).length,
      publishers: publishers.size,
      provider: {
        backend: 'file',
        webhooks_file: current.config.webhooksFile,
        connections_file: current.config.connectionsFile,
      },
      file_watching_enabled: context.settings.CONFIG_FILE_WATCHING_ENABLED,
    };
  });
}

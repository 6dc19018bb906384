/**
 * Webhook Connect admin API `/admin/webhook-connect/*` (reference §6.7, shapes kept), guarded by
 * `WEBHOOK_CONNECT_ADMIN_TOKEN` (constant-time comparison; authentication before anything else; `/health`
 * needs none). Additions: `POST …/dead-letters/replay`, `DELETE …/dead-letters`, `GET …/connections`,
 * and `reason`/`last_error`/`dead_at` on dead letters.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeadLetter } from '../../buffer/types.js';
import { WebhookConnectError } from '../../shared/errors.js';
import { safeEqual } from '../../shared/timing-safe.js';
import { intParam, invalidRequest, jsonObjectBody, presentedToken, viaBuffer } from '../http.js';
import type { RelayService } from '../service.js';
import { iso } from '../session.js';
import { channelStats } from './connect.js';

export const ADMIN_PREFIX = '/admin/webhook-connect';
/** Grace period of the old token after a rotation, seconds. */
export const DEFAULT_GRACE_SECONDS = 3600;

export interface AdminRoutesOptions {
  readonly service: RelayService;
  /** `WEBHOOK_CONNECT_ADMIN_TOKEN`; undefined disables every route but `/health`. */
  readonly adminToken: string | undefined;
}

interface ChannelParams {
  channel: string;
}

/** A dead letter in the reference's envelope shape, plus our additive fields. */
export function deadLetterEnvelope(message: DeadLetter): Record<string, unknown> {
  const sequence = message.metadata.sequence;
  return {
    message_id: message.id,
    channel: message.channel,
    webhook_id: message.webhook_id,
    timestamp: iso(message.received_at),
    expires_at: iso(message.expires_at),
    metadata: message.metadata,
    headers: message.headers,
    payload: message.payload,
    sequence: typeof sequence === 'number' ? sequence : 0,
    delivery_count: message.delivery_count,
    state: 'dead_lettered',
    reason: message.reason,
    last_error: message.last_error,
    dead_at: iso(message.dead_at),
    body: message.body.toString('base64'),
    content_type: message.content_type,
    query: message.query,
  };
}

function idsOf(fields: Record<string, unknown> | undefined): string[] | undefined {
  const ids = fields?.message_ids;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id === ''))
    throw invalidRequest('message_ids must be an array of message ids');
  return ids as string[];
}

export function registerAdminRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  const { service, adminToken } = options;

  const authenticate = async (request: FastifyRequest) => {
    if (adminToken === undefined) throw new WebhookConnectError('WC_CONNECT_ADMIN_DISABLED');
    const token = presentedToken(request.headers, undefined, false);
    if (token === undefined)
      throw new WebhookConnectError('WC_ADMIN_AUTH_REQUIRED', { detail: 'Missing authorization header' });
    if (token === '' || !safeEqual(token, adminToken))
      throw new WebhookConnectError('WC_ADMIN_AUTH_INVALID', { detail: 'Invalid admin token' });
    if (!service.running) throw new WebhookConnectError('WC_RELAY_NOT_RUNNING');
  };
  const known = (channel: string) => {
    const definition = service.channel(channel);
    if (definition === undefined) throw new WebhookConnectError('WC_CHANNEL_NOT_FOUND');
    return definition;
  };
  const guarded = { onRequest: authenticate };
  const now = () => new Date().toISOString();

  const healthOf = async () => {
    const buffer = await service.health();
    return {
      buffer: buffer.ok,
      backend: buffer.backend,
      ...(buffer.detail === undefined ? {} : { buffer_detail: buffer.detail }),
      channels_count: service.channelNames().length,
      connections_count: service.sessions().length,
    };
  };

  const channelConfig = (channel: string) => {
    const { config, webhookIds } = known(channel);
    const times = service.channelTimes(channel);
    return {
      name: channel,
      webhook_id: webhookIds[0] ?? null,
      webhook_ids: webhookIds,
      ttl_seconds: config.ttl_seconds,
      max_queue_size: config.max_queue_size,
      max_message_size: config.max_message_size,
      max_in_flight: config.max_in_flight,
      ack_timeout_seconds: config.ack_timeout_seconds,
      max_connections: config.max_connections,
      heartbeat_interval_seconds: config.heartbeat_interval_seconds,
      allowed_ips: config.allowed_ips.length === 0 ? null : config.allowed_ips,
      rate_limit_per_second: null,
      max_delivery_attempts: config.max_delivery_attempts,
      retry_backoff: config.retry_backoff,
      ordered: config.ordered,
      created_at: times === undefined ? null : iso(times.createdAt),
      updated_at: times === undefined ? null : iso(times.updatedAt),
    };
  };

  app.get(`${ADMIN_PREFIX}/health`, async () => {
    if (!service.running) throw new WebhookConnectError('WC_RELAY_NOT_RUNNING');
    const health = await healthOf();
    return { status: health.buffer ? 'healthy' : 'unhealthy', ...health, timestamp: now() };
  });

  app.get(`${ADMIN_PREFIX}/channels`, guarded, async () =>
    service.channelNames().map((name) => {
      const config = channelConfig(name);
      return {
        name,
        webhook_id: config.webhook_id,
        created_at: config.created_at,
        ttl_seconds: config.ttl_seconds,
        max_queue_size: config.max_queue_size,
        max_connections: config.max_connections,
        connected_clients: service.sessions(name).length,
      };
    }),
  );

  app.get<{ Params: ChannelParams }>(`${ADMIN_PREFIX}/channels/:channel`, guarded, async (request) => {
    const name = request.params.channel;
    const config = channelConfig(name);
    const [stats, webhookStats] = await viaBuffer(() =>
      Promise.all([channelStats(service, name), service.buffer!.webhookDepths(name)]),
    );
    return {
      name,
      webhook_id: config.webhook_id,
      created_at: config.created_at,
      config,
      stats: { ...stats, webhook_stats: webhookStats },
      connected_clients: service.sessions(name).map((session) => session.toJSON()),
    };
  });

  app.get<{ Params: ChannelParams }>(`${ADMIN_PREFIX}/channels/:channel/stats`, guarded, async (request) => {
    known(request.params.channel);
    return viaBuffer(() => channelStats(service, request.params.channel));
  });

  app.get<{ Params: ChannelParams }>(
    `${ADMIN_PREFIX}/channels/:channel/webhook-stats`,
    guarded,
    async (request) => {
      const name = request.params.channel;
      const { webhookIds } = known(name);
      const depths = await viaBuffer(() => service.buffer!.webhookDepths(name));
      const webhooks: Record<string, { pending: number }> = {};
      for (const id of new Set([...webhookIds, ...Object.keys(depths)]))
        webhooks[id] = { pending: depths[id] ?? 0 };
      return { channel: name, webhooks };
    },
  );

  app.get<{ Params: ChannelParams; Querystring: Record<string, unknown> }>(
    `${ADMIN_PREFIX}/channels/:channel/dead-letters`,
    guarded,
    async (request) => {
      const name = request.params.channel;
      known(name);
      const limit = intParam(request.query, 'limit', 100, 1, 10_000);
      const offset = intParam(request.query, 'offset', 0, 0, 100_000_000);
      const letters = await viaBuffer(() => service.buffer!.listDeadLetters(name, { limit, offset }));
      return { channel: name, count: letters.length, messages: letters.map(deadLetterEnvelope) };
    },
  );

  app.post<{ Params: ChannelParams }>(
    `${ADMIN_PREFIX}/channels/:channel/dead-letters/replay`,
    guarded,
    async (request) => {
      const name = request.params.channel;
      known(name);
      const ids = idsOf(jsonObjectBody(request.body));
      const replayed = await viaBuffer(() => service.buffer!.replayDeadLetters(name, ids));
      return { channel: name, replayed };
    },
  );

  app.delete<{ Params: ChannelParams }>(
    `${ADMIN_PREFIX}/channels/:channel/dead-letters`,
    guarded,
    async (request) => {
      const name = request.params.channel;
      known(name);
      const ids = idsOf(jsonObjectBody(request.body));
      const purged = await viaBuffer(() => service.buffer!.purgeDeadLetters(name, ids));
      return { channel: name, purged };
    },
  );

  app.post<{ Params: ChannelParams }>(
    `${ADMIN_PREFIX}/channels/:channel/rotate-token`,
    guarded,
    async (request) => {
      const name = request.params.channel;
      known(name);
      const body = jsonObjectBody(request.body);
      if (body === undefined) throw invalidRequest('a JSON object body is required');
      const grace = body.grace_period_seconds ?? DEFAULT_GRACE_SECONDS;
      if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0 || grace > 30 * 86_400)
        throw invalidRequest('grace_period_seconds must be a number between 0 and 2592000');
      const { token, oldExpiresAt } = await viaBuffer(() => service.rotateToken(name, grace));
      return {
        channel: name,
        new_token: token,
        old_token_expires_at: iso(oldExpiresAt),
        message: `Old token valid for ${grace} seconds grace period`,
      };
    },
  );

  app.get<{ Params: ChannelParams }>(
    `${ADMIN_PREFIX}/channels/:channel/connections`,
    guarded,
    async (request) => {
      const name = request.params.channel;
      known(name);
      return {
        channel: name,
        connections: service.sessions(name).map((session) => session.toJSON()),
      };
    },
  );

  app.delete<{ Params: ChannelParams & { id: string } }>(
    `${ADMIN_PREFIX}/channels/:channel/connections/:id`,
    guarded,
    async (request) => {
      const { channel, id } = request.params;
      known(channel);
      const session = service.session(id);
      if (session === undefined) throw new WebhookConnectError('WC_CONNECTION_NOT_FOUND');
      if (session.channel !== channel) throw new WebhookConnectError('WC_CONNECTION_NOT_ON_CHANNEL');
      await service.evict(session, 'admin', 'Disconnected by admin');
      return { status: 'disconnected', connection_id: id };
    },
  );

  app.get(`${ADMIN_PREFIX}/overview`, guarded, async () => {
    const health = await healthOf();
    const channels: Record<string, unknown> = {};
    for (const name of service.channelNames()) {
      const config = channelConfig(name);
      channels[name] = {
        webhook_id: config.webhook_id,
        connected_clients: service.sessions(name).length,
        max_connections: config.max_connections,
        ttl_seconds: config.ttl_seconds,
      };
    }
    return {
      timestamp: now(),
      health,
      total_channels: health.channels_count,
      total_connections: health.connections_count,
      channels,
    };
  });
}

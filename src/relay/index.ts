/**
 * The cloud side of Webhook Connect, assembled: the channel service (channels from configuration,
 * sessions, leases via the buffer), the WebSocket endpoint on the HTTP server's `upgrade` event, the
 * `/connect/*` HTTP routes and the `/admin/webhook-connect/*` API. `serve` and the test harness build one
 * with `createRelay` and hand it to the runtime (channel registration), the modules (`relay` dep), the
 * receiver (`extraRoutes`) and the health registry.
 */
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { MessageBuffer } from '../buffer/types.js';
import type { Logger } from '../observability/logger.js';
import type { HealthRegistry } from '../receiver/health.js';
import type { IpRange } from '../shared/ip.js';
import { AuthGuard } from './auth-guard.js';
import { registerRelayMetrics } from './metrics.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerConnectRoutes } from './routes/connect.js';
import { RelayService } from './service.js';
import { attachWebSocket, type WebSocketEndpoint } from './transports/websocket.js';

export { RelayService } from './service.js';
export { collectChannels, type ChannelDefinition } from './channels.js';

export interface RelayOptions {
  readonly createBuffer: () => Promise<MessageBuffer>;
  readonly logger: Logger;
  /** `WEBHOOK_CONNECT_ENABLED`: start the buffer even without `webhook_connect` webhooks. Default false. */
  readonly enabled?: boolean;
  /** `WEBHOOK_CONNECT_ADMIN_TOKEN`; undefined disables the admin API (except `/health`). */
  readonly adminToken?: string | undefined;
  /** `TRUSTED_PROXY_IPS`, for the connector address checked against `allowed_ips`. Default none. */
  readonly trustedProxies?: readonly IpRange[];
  /** Registers the `webhook_connect` component when the buffer starts. */
  readonly health?: HealthRegistry;
  /** Sweep period, ms (heartbeats, lease deadlines, pumps). Default 1000. */
  readonly sweepIntervalMs?: number;
  /** The receiver's `/metrics` registry, to add the `webhook_connect_*` metrics to. Default none. */
  readonly metricsRegistry?: Registry;
}

export interface Relay {
  readonly service: RelayService;
  /** For `createReceiver({ extraRoutes })`. */
  routes(app: FastifyInstance): void;
  /** Serves WebSocket upgrades on the receiver's HTTP server. */
  attach(server: Server): void;
  /** Shutdown, first step: ends every session (leases back without counting); publishing still works. */
  closeSessions(): Promise<void>;
  /** Closes sessions, the WebSocket endpoint and the buffer. */
  close(): Promise<void>;
}

export function createRelay(options: RelayOptions): Relay {
  const trustedProxies = options.trustedProxies ?? [];
  const service = new RelayService({
    createBuffer: options.createBuffer,
    logger: options.logger,
    ...(options.enabled === undefined ? {} : { enabled: options.enabled }),
    ...(options.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.sweepIntervalMs }),
    onStarted: (buffer) => {
      options.logger.info({ buffer: buffer.kind }, `webhook connect buffer: ${buffer.kind}`);
      options.health?.register('webhook_connect', async () => {
        const health = await service.health();
        return health.ok
          ? { status: 'healthy', detail: `buffer ${health.backend}` }
          : {
              status: 'unhealthy',
              detail: `buffer ${health.backend} unavailable${health.detail === undefined ? '' : `: ${health.detail}`}`,
            };
      });
    },
  });
  if (options.metricsRegistry !== undefined) registerRelayMetrics(options.metricsRegistry, service);
  const guard = new AuthGuard();
  let websocket: WebSocketEndpoint | undefined;
  return {
    service,
    routes(app) {
      registerConnectRoutes(app, { service, guard, trustedProxies });
      registerAdminRoutes(app, { service, adminToken: options.adminToken });
    },
    attach(server) {
      websocket ??= attachWebSocket(server, {
        service,
        guard,
        logger: options.logger,
        trustedProxies,
      });
    },
    async closeSessions() {
      await service.closeSessions();
    },
    async close() {
      await service.close();
      websocket?.close();
    },
  };
}

/**
 * The HTTP side of the streaming API (reference §6.6): SSE `GET /connect/stream/{c}/sse`, long-poll
 * `GET /connect/stream/{c}/poll`, `POST /connect/ack` and `GET /connect/status/{c}`. Errors are coded
 * (`{detail, code}`) with the reference's status codes and detail texts.
 *
 * Long-poll keeps a lease: the messages of an answered poll stay leased to its `connection_id` until they
 * are acked or nacked through `POST /connect/ack`, or `ack_timeout_seconds` passes (then they are
 * redelivered). Connection ids carry their channel, so an ack may reach any instance.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  CONNECTION_ID_HEADER,
  CONNECTOR_ID_HEADER,
  parseClientFrame,
  type ParsedClientFrame,
  type WebhookFrame,
} from '../../protocol/frames.js';
import { WebhookConnectError } from '../../shared/errors.js';
import type { IpRange } from '../../shared/ip.js';
import type { AuthGuard } from '../auth-guard.js';
import { clientIp, headerValue, intParam, invalidRequest, presentedToken, viaBuffer } from '../http.js';
import { channelOfConnectionId, type RelayService } from '../service.js';
import type { Session, SessionTransport } from '../session.js';

export interface ConnectRoutesOptions {
  readonly service: RelayService;
  /** The channel-token guessing limit, shared by every connector endpoint. */
  readonly guard: AuthGuard;
  readonly trustedProxies: readonly IpRange[];
}

interface ChannelParams {
  channel: string;
}

type Query = Record<string, unknown>;

export function registerConnectRoutes(app: FastifyInstance, options: ConnectRoutesOptions): void {
  const { service } = options;
  const { guard } = options;
  const ipOf = (request: FastifyRequest) =>
    clientIp(request.raw.socket.remoteAddress, request.headers, options.trustedProxies);
  /** A channel-token check counted by the guessing limit (`auth-guard.ts`); refused (429) over it. */
  const tokenAccepted = async (request: FastifyRequest, channel: string, token: string) => {
    const ip = ipOf(request);
    guard.check(ip);
    if (await service.authorize(channel, token)) return true;
    guard.failed(ip);
    return false;
  };

  const requireRunning = () => {
    if (!service.running) throw new WebhookConnectError('WC_RELAY_NOT_RUNNING', { retryAfterSeconds: 5 });
  };

  /** Token (header or query), channel and address checks of SSE and long-poll, in the reference's order. */
  const admit = async (request: FastifyRequest<{ Params: ChannelParams; Querystring: Query }>) => {
    requireRunning();
    const channel = request.params.channel;
    const token = presentedToken(request.headers, request.query, true);
    if (token === undefined) throw new WebhookConnectError('WC_CONNECT_TOKEN_MISSING');
    if (!(await tokenAccepted(request, channel, token)))
      throw new WebhookConnectError('WC_CONNECT_TOKEN_INVALID');
    const definition = service.channel(channel);
    if (definition === undefined) throw new WebhookConnectError('WC_CHANNEL_NOT_FOUND');
    const ip = ipOf(request);
    if (!service.ipAllowed(channel, ip)) throw new WebhookConnectError('WC_CONNECT_IP_DENIED');
    if (service.draining) throw new WebhookConnectError('WC_SHUTTING_DOWN', { retryAfterSeconds: 5 });
    return { channel, definition, ip };
  };

  app.get<{ Params: ChannelParams; Querystring: Query }>(
    '/connect/stream/:channel/sse',
    async (request, reply) => {
      const { channel, definition, ip } = await admit(request);
      const raw = reply.raw;
      const write = (event: string, data: unknown, id?: string) => {
        if (raw.destroyed || raw.writableEnded) return false;
        raw.write(
          `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
        );
        return true;
      };
      const transport: SessionTransport = {
        protocol: 'sse',
        send(frame) {
          switch (frame.type) {
            case 'webhook':
              return write('webhook', frame, frame.message_id);
            case 'heartbeat':
              return write('heartbeat', { timestamp: frame.timestamp });
            default:
              return write(frame.type, frame);
          }
        },
        close() {
          if (!raw.writableEnded) raw.end();
        },
      };
      const session = service.openSession(channel, transport, {
        connectorId: headerValue(request.headers, CONNECTOR_ID_HEADER) ?? 'sse_default',
        remoteIp: ip ?? null,
        userAgent: headerValue(request.headers, 'user-agent') ?? null,
      });
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      if (session === undefined) {
        write('error', { error: 'max_connections_reached' });
        raw.end();
        return;
      }
      raw.on('close', () => void service.endSession(session, 'counted'));
      write('connected', {
        connection_id: session.id,
        channel,
        timestamp: new Date().toISOString(),
        heartbeat_interval_seconds: definition.config.heartbeat_interval_seconds,
        max_in_flight: definition.config.max_in_flight,
      });
      service.activate(session);
    },
  );

  app.get<{ Params: ChannelParams; Querystring: Query }>(
    '/connect/stream/:channel/poll',
    async (request, reply) => {
      const timeoutSeconds = intParam(request.query, 'timeout', 30, 1, 60);
      const maxMessages = intParam(request.query, 'max_messages', 10, 1, 100);
      const { channel, ip } = await admit(request);
      const frames: WebhookFrame[] = [];
      let finish: () => void = () => {};
      const answered = new Promise<void>((resolve) => (finish = resolve));
      let done = false;
      const transport: SessionTransport = {
        protocol: 'long_poll',
        send(frame) {
          if (done) return false;
          if (frame.type === 'webhook') {
            if (frames.length === 0) setImmediate(finish);
            frames.push(frame);
          }
          return true;
        },
        close: () => finish(),
      };
      const session: Session | undefined = service.openSession(channel, transport, {
        connectorId: headerValue(request.headers, CONNECTOR_ID_HEADER) ?? 'poll_default',
        remoteIp: ip ?? null,
        userAgent: headerValue(request.headers, 'user-agent') ?? null,
        maxInFlight: maxMessages,
      });
      if (session === undefined) throw new WebhookConnectError('WC_CONNECT_MAX_CONNECTIONS');
      let clientGone = false;
      const onClose = () => {
        if (!reply.raw.writableEnded) {
          clientGone = true;
          finish();
        }
      };
      request.raw.socket.on('close', onClose);
      const timer = setTimeout(finish, timeoutSeconds * 1000);
      service.activate(session);
      await answered;
      done = true;
      clearTimeout(timer);
      request.raw.socket.off('close', onClose);
      // An answered poll keeps its leases for POST /connect/ack; a vanished client gives them back.
      await service.endSession(session, clientGone ? 'counted' : 'keep');
      if (frames.length === 0) return reply.code(204).send();
      return {
        messages: frames,
        connection_id: session.id,
        channel,
        timestamp: new Date().toISOString(),
      };
    },
  );

  app.post<{ Querystring: Query }>('/connect/ack', async (request) => {
    requireRunning();
    const connectionId = headerValue(request.headers, CONNECTION_ID_HEADER)?.trim();
    if (connectionId === undefined || connectionId === '')
      throw invalidRequest('X-Connection-ID header is required');
    const token = presentedToken(request.headers, undefined, false);
    if (token === undefined) throw invalidRequest('Authorization header is required');
    const { frame, batch } = ackFrameOf(request.body, request.query);
    const channel = service.session(connectionId)?.channel ?? channelOfConnectionId(connectionId);
    if (channel === undefined || service.channel(channel) === undefined)
      throw new WebhookConnectError('WC_CONNECTION_NOT_FOUND');
    if (!(await tokenAccepted(request, channel, token)))
      throw new WebhookConnectError('WC_CONNECT_TOKEN_INVALID', { detail: 'Invalid token' });
    const ip = ipOf(request);
    if (!service.ipAllowed(channel, ip)) throw new WebhookConnectError('WC_CONNECT_IP_DENIED');
    const results = await viaBuffer(() => service.settle(channel, connectionId, frame));
    if (!batch) {
      const result = results[0];
      if (result === undefined || result.outcome !== 'ok')
        throw new WebhookConnectError('WC_MESSAGE_NOT_IN_FLIGHT');
      return { status: 'ok', message_id: result.message_id };
    }
    return {
      status: results.every((result) => result.outcome === 'ok') ? 'ok' : 'partial',
      results,
    };
  });

  app.get<{ Params: ChannelParams }>('/connect/status/:channel', async (request) => {
    requireRunning();
    const token = presentedToken(request.headers, undefined, false);
    if (token === undefined) throw invalidRequest('Authorization header is required');
    const channel = request.params.channel;
    if (!(await tokenAccepted(request, channel, token)))
      throw new WebhookConnectError('WC_CONNECT_TOKEN_INVALID', { detail: 'Invalid token' });
    const stats = await viaBuffer(() => channelStats(service, channel));
    return { channel, connected: true, stats, server_time: new Date().toISOString() };
  });
}

/**
 * The ack or nack of a `POST /connect/ack`: the JSON body (a client frame, batch form allowed) when one
 * is given, else the reference's query form (`message_id`, `status` — anything but `ack` is a nack —
 * and `retry`, default true).
 */
function ackFrameOf(
  body: unknown,
  query: Query,
): { frame: Exclude<ParsedClientFrame, { type: 'heartbeat' }>; batch: boolean } {
  if (Buffer.isBuffer(body) && body.length > 0) {
    const parsed = parseClientFrame(body.toString('utf8'));
    if (!parsed.ok) throw invalidRequest(parsed.error);
    if (parsed.frame.type === 'heartbeat') throw invalidRequest('expected an ack or nack');
    let batch = false;
    try {
      batch = Array.isArray((JSON.parse(body.toString('utf8')) as { message_ids?: unknown }).message_ids);
    } catch {
      batch = false;
    }
    return { frame: parsed.frame, batch };
  }
  const messageId = typeof query.message_id === 'string' ? query.message_id : '';
  if (messageId === '') throw invalidRequest('message_id is required');
  const status = typeof query.status === 'string' ? query.status : 'ack';
  if (status === 'ack') return { frame: { type: 'ack', messageIds: [messageId] }, batch: false };
  const retryText = typeof query.retry === 'string' ? query.retry.toLowerCase() : 'true';
  if (!['true', 'false', '1', '0'].includes(retryText)) throw invalidRequest('retry must be a boolean');
  return {
    frame: {
      type: 'nack',
      messageIds: [messageId],
      retry: retryText === 'true' || retryText === '1',
      error: undefined,
      delaySeconds: undefined,
    },
    batch: false,
  };
}

/** The reference's ChannelStats dict, from the buffer's stats and this instance's sessions. */
export async function channelStats(service: RelayService, channel: string) {
  const buffer = service.buffer;
  if (buffer === undefined) throw new WebhookConnectError('WC_RELAY_NOT_RUNNING');
  const stats = await buffer.stats(channel);
  return {
    channel,
    messages_queued: stats.available,
    messages_in_flight: stats.leased,
    messages_delivered: stats.acked_total,
    messages_expired: stats.expired_total,
    messages_dead_lettered: stats.dead,
    connected_clients: service.sessions(channel).length,
  };
}

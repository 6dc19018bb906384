/**
 * WebSocket transport `WS /connect/stream/{channel}` (reference §6.6.1), on the HTTP server's `upgrade`
 * event with `ws` in noServer mode. Every handshake to the route is accepted and then judged, so a
 * client can tell the outcomes apart by close code: 4002 unknown channel, 4001 invalid token (or an
 * address outside `allowed_ips`), 4003 `max_connections`; eviction and admin disconnect close with 4004.
 * An address over the failed-token limit (`auth-guard.ts`) is refused before the upgrade: HTTP 429.
 * A binary frame closes with 1003; a malformed text frame is logged and ignored — the reader never dies.
 * Any client frame (and a ping) counts as a heartbeat.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../observability/logger.js';
import { CLOSE_CODES, CLOSE_REASONS, CONNECTOR_ID_HEADER, parseClientFrame } from '../../protocol/frames.js';
import type { IpRange } from '../../shared/ip.js';
import type { AuthGuard } from '../auth-guard.js';
import { clientIp, headerValue, presentedToken } from '../http.js';
import type { RelayService } from '../service.js';
import type { SessionTransport } from '../session.js';

/** Largest client frame accepted (a batch ack of 1000 ids is ~30 KiB). */
const MAX_CLIENT_FRAME_BYTES = 1024 * 1024;
const ROUTE = /^\/connect\/stream\/([^/]+)\/?$/;

export interface WebSocketTransportOptions {
  readonly service: RelayService;
  /** The channel-token guessing limit, shared by every connector endpoint. */
  readonly guard: AuthGuard;
  readonly logger: Logger;
  readonly trustedProxies: readonly IpRange[];
}

export interface WebSocketEndpoint {
  close(): void;
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

let connectorCounter = 0;

/** Serves WebSocket upgrades for `/connect/stream/{channel}` on `server`. */
export function attachWebSocket(server: Server, options: WebSocketTransportOptions): WebSocketEndpoint {
  const { service, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  const { guard } = options;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const match = ROUTE.exec(path);
    if (match === null) return reject(socket, 404, 'Not Found');
    if (!service.running) return reject(socket, 503, 'Service Unavailable');
    const wait = guard.blockedFor(
      clientIp(request.socket.remoteAddress, request.headers, options.trustedProxies),
    );
    if (wait > 0) {
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: ${wait}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      void onConnection(ws, request, match[1] as string).catch((error: unknown) => {
        logger.error({ err: error }, 'websocket session failed');
        ws.terminate();
      });
    });
  };
  server.on('upgrade', onUpgrade);

  const closeWith = (ws: WebSocket, code: number) => ws.close(code, CLOSE_REASONS[code] ?? '');

  async function onConnection(ws: WebSocket, request: IncomingMessage, rawChannel: string): Promise<void> {
    let channel: string;
    try {
      channel = decodeURIComponent(rawChannel);
    } catch {
      return closeWith(ws, CLOSE_CODES.CHANNEL_NOT_FOUND);
    }
    if (service.channel(channel) === undefined) return closeWith(ws, CLOSE_CODES.CHANNEL_NOT_FOUND);
    const ip = clientIp(request.socket.remoteAddress, request.headers, options.trustedProxies);
    const query = Object.fromEntries(new URL(request.url ?? '/', 'http://relay').searchParams);
    const token = presentedToken(request.headers, query, true);
    // Frames that arrive while the token is checked are kept and handled once the session exists.
    const early: { data: Buffer; binary: boolean }[] = [];
    const keepEarly = (data: Buffer, binary: boolean) => early.push({ data, binary });
    ws.on('message', keepEarly);
    if (!(await service.authorize(channel, token))) {
      guard.failed(ip);
      return closeWith(ws, CLOSE_CODES.INVALID_TOKEN);
    }
    if (!service.ipAllowed(channel, ip)) {
      return ws.close(CLOSE_CODES.INVALID_TOKEN, 'Connector address not allowed');
    }
    if (ws.readyState !== WebSocket.OPEN) return;

    const transport: SessionTransport = {
      protocol: 'websocket',
      send(frame) {
        if (ws.readyState !== WebSocket.OPEN) return false;
        ws.send(JSON.stringify(frame), (error) => {
          if (error != null) void service.endSession(session, 'counted');
        });
        return true;
      },
      close(code, reason) {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
          ws.close(code, reason);
        // A peer that never answers the close handshake does not keep the socket.
        setTimeout(() => ws.terminate(), 5000).unref();
      },
    };
    if (service.draining) return ws.close(CLOSE_CODES.GOING_AWAY, 'Server shutting down');
    const definition = service.channel(channel);
    const opened = service.openSession(channel, transport, {
      connectorId: headerValue(request.headers, CONNECTOR_ID_HEADER) ?? `ws_${++connectorCounter}`,
      remoteIp: ip ?? null,
      userAgent: headerValue(request.headers, 'user-agent') ?? null,
    });
    if (opened === undefined || definition === undefined) return closeWith(ws, CLOSE_CODES.MAX_CONNECTIONS);
    const session = opened;

    const onMessage = (data: Buffer, isBinary: boolean) => {
      session.lastHeartbeatAt = Date.now();
      if (isBinary) {
        logger.warn({ connection_id: session.id }, 'binary websocket frame; closing with 1003');
        void service.endSession(session, 'counted', {
          code: CLOSE_CODES.UNSUPPORTED_DATA,
          reason: 'Binary frames are not supported',
        });
        return;
      }
      const parsed = parseClientFrame(data.toString('utf8'));
      if (!parsed.ok) {
        logger.warn({ connection_id: session.id, error: parsed.error }, 'ignoring a malformed client frame');
        return;
      }
      const frame = parsed.frame;
      if (frame.type === 'heartbeat') return;
      service.settle(channel, session.id, frame).catch((error: unknown) => {
        logger.warn({ connection_id: session.id, err: error }, `cannot process ${frame.type}`);
      });
    };
    ws.off('message', keepEarly);
    ws.on('message', (data: Buffer, isBinary: boolean) => onMessage(data, isBinary));
    ws.on('ping', () => {
      session.lastHeartbeatAt = Date.now();
    });
    ws.on('close', () => void service.endSession(session, 'counted'));
    ws.on('error', (error) => logger.debug({ connection_id: session.id, err: error }, 'websocket error'));

    transport.send({
      type: 'connected',
      connection_id: session.id,
      channel,
      timestamp: new Date().toISOString(),
      heartbeat_interval_seconds: definition.config.heartbeat_interval_seconds,
      max_in_flight: definition.config.max_in_flight,
    });
    logger.info(
      { channel, connection_id: session.id, connector_id: session.connectorId, protocol: 'websocket' },
      'connector connected',
    );
    service.activate(session);
    for (const { data, binary } of early.splice(0)) onMessage(data, binary);
  }

  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

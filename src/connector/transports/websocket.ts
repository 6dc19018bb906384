/**
 * WebSocket transport (`WS /connect/stream/{channel}`). The handshake carries `Authorization: Bearer`
 * and `X-Connector-ID`. A rejected handshake (the reference answers HTTP 403 for a bad token) and close
 * codes 4001–4004 are mapped to their `EndReason`. Server heartbeats are answered; any text frame counts
 * as a sign of life for the heartbeat deadline (pongs do not: a relay whose socket still answers pings but
 * sends nothing is as good as gone). Pings are still sent every `heartbeat_timeout / 2` to keep NAT and
 * proxies from dropping an idle connection.
 */
import WebSocket from 'ws';
import { CLOSE_CODES, parseServerFrame } from '../../protocol/frames.js';
import { authHeaders, Deadline, once, webSocketUrl } from './shared.js';
import {
  ConnectFailure,
  type EndReason,
  type OpenTransport,
  type Session,
  type SessionEnd,
  type SessionHandlers,
  type TransportContext,
} from './types.js';

function reasonForStatus(status: number): EndReason {
  if (status === 401 || status === 403) return 'auth_rejected';
  if (status === 404) return 'channel_not_found';
  return 'error';
}

function reasonForClose(code: number): EndReason {
  switch (code) {
    case CLOSE_CODES.INVALID_TOKEN:
      return 'auth_rejected';
    case CLOSE_CODES.CHANNEL_NOT_FOUND:
      return 'channel_not_found';
    case CLOSE_CODES.MAX_CONNECTIONS:
      return 'max_connections';
    case CLOSE_CODES.EVICTED:
      return 'evicted';
    default:
      return 'closed';
  }
}

export const openWebSocket: OpenTransport = (context, handlers, signal) => {
  const { config, logger } = context;
  return new Promise<Session>((resolve, reject) => {
    const ws = new WebSocket(webSocketUrl(config), {
      headers: authHeaders(config),
      handshakeTimeout: config.connection_timeout * 1000,
      perMessageDeflate: false,
      ...context.tls,
    });
    let opened = false;
    const fail = (failure: ConnectFailure) => {
      if (opened) return;
      opened = true;
      signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(failure);
    };
    const onAbort = () => fail(new ConnectFailure('stopped', 'stopped while connecting'));
    signal.addEventListener('abort', onAbort, { once: true });

    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      fail(new ConnectFailure(reasonForStatus(status), `handshake rejected with HTTP ${status}`));
    });
    ws.once('error', (error) => fail(new ConnectFailure('error', error.message, { cause: error })));
    ws.once('close', (code, reason) =>
      fail(new ConnectFailure(reasonForClose(code), `closed during handshake: ${code} ${reason.toString()}`)),
    );

    ws.once('open', () => {
      if (opened) return;
      opened = true;
      signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners();
      resolve(liveSession(ws, context, handlers));
    });
  });

  function liveSession(ws: WebSocket, ctx: TransportContext, h: SessionHandlers): Session {
    const ended = once<SessionEnd>();
    let connectionId: string | undefined;
    let endReason: SessionEnd | undefined;
    const timeoutMs = ctx.config.heartbeat_timeout * 1000;
    const deadline = new Deadline(timeoutMs, () => {
      endReason = {
        reason: 'heartbeat_timeout',
        detail: `no frame from the relay for ${ctx.config.heartbeat_timeout}s`,
      };
      ws.terminate();
    });
    const pinger = setInterval(
      () => {
        if (ws.readyState === WebSocket.OPEN) ws.ping();
      },
      Math.max(50, timeoutMs / 2),
    );
    pinger.unref();

    ws.on('message', (data, isBinary) => {
      deadline.touch();
      if (isBinary) {
        logger.warn('ignoring a binary frame from the relay');
        return;
      }
      const parsed = parseServerFrame(data.toString());
      if (!parsed.ok) {
        logger.warn({ error: parsed.error }, 'ignoring a frame the connector does not understand');
        return;
      }
      const frame = parsed.frame;
      switch (frame.type) {
        case 'connected':
          connectionId = frame.connection_id;
          if (typeof frame.heartbeat_interval_seconds === 'number' && frame.heartbeat_interval_seconds > 0) {
            deadline.atLeast(frame.heartbeat_interval_seconds * 1500);
          }
          logger.debug({ connection_id: connectionId }, 'relay confirmed the connection');
          break;
        case 'heartbeat':
          ws.send(
            JSON.stringify({ type: 'heartbeat', timestamp: new Date().toISOString() }),
            () => undefined,
          );
          break;
        case 'webhook':
          h.onWebhook(frame);
          break;
      }
    });
    ws.on('error', (error) => {
      endReason ??= { reason: 'error', detail: error.message };
    });
    ws.on('close', (code, reason) => {
      deadline.stop();
      clearInterval(pinger);
      ended.settle(
        endReason ?? {
          reason: reasonForClose(code),
          detail: `closed by the relay: ${code} ${reason.toString()}`.trim(),
        },
      );
    });

    const send = (frame: object) =>
      new Promise<boolean>((resolve) => {
        if (ws.readyState !== WebSocket.OPEN) {
          resolve(false);
          return;
        }
        ws.send(JSON.stringify(frame), (error) => resolve(error == null));
      });

    return {
      protocol: 'websocket',
      connectionId: () => connectionId,
      ack: (messageId) => send({ type: 'ack', message_id: messageId }),
      nack: (messageId, options) =>
        send({
          type: 'nack',
          message_id: messageId,
          retry: options.retry,
          ...(options.error === undefined ? {} : { error: options.error.slice(0, 1000) }),
        }),
      ended: ended.promise,
      close() {
        endReason ??= { reason: 'stopped', detail: 'closed by the connector' };
        if (ws.readyState === WebSocket.CLOSED) return;
        ws.close(1000, 'connector stopping');
        // A relay that never answers the close handshake must not hold shutdown.
        setTimeout(() => ws.terminate(), 2000).unref();
      },
    };
  }
};

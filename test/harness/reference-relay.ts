/**
 * A minimal relay that speaks ONLY the reference's streaming frames (spec §6.6), for connector tests:
 *
 * - `WS /connect/stream/{c}`: a bad token is refused at the handshake with HTTP 403 (the reference's
 *   behaviour); `connected`, `webhook` and `heartbeat` frames; `ack`/`nack` frames for in-flight ids only.
 * - `GET /connect/stream/{c}/sse`: 401 on a bad token; `connected`, `webhook`, `heartbeat` events.
 * - `GET /connect/stream/{c}/poll`: 204 or `{messages, connection_id}`; unlike the reference, the lease
 *   is kept until ack/nack or `ackTimeoutMs`, so `POST /connect/ack` works.
 * - `POST /connect/ack?message_id=&status=&retry=` with `X-Connection-ID` and `Authorization`.
 *
 * Webhook frames carry no `body`, `content_type` or `delivery_count` unless `additive: true`, which adds
 * our relay's additive fields (byte-exact tests need `body`). Backed by an in-memory queue: a message
 * leaves it on ack, goes to the dead letters on `nack retry=false`, and returns to the front on
 * `nack retry=true` or when its connection goes away.
 *
 * Tests drive it through `RelayUnderTest`, which the real relay's harness can implement later so the
 * same connector tests run against it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface PublishInput {
  readonly webhookId: string;
  /** The exact body bytes as the provider sent them. */
  readonly body: Buffer | string;
  /** Default `application/json`. */
  readonly contentType?: string;
  /** Extra provider headers (lower-case names). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface DeadLetter {
  readonly messageId: string;
  /** The nack's `error` (recorded only in `additive` mode; the reference ignores it). */
  readonly error: string | undefined;
}

/** What connector tests need from a relay; implemented by this harness and (later) by the real relay's. */
export interface RelayUnderTest {
  readonly url: string;
  readonly channel: string;
  readonly token: string;
  /** Accepts one webhook into the channel; returns its message id. */
  publish(input: PublishInput): string;
  /** Ids acked, in order. */
  acked(): readonly string[];
  deadLetters(): readonly DeadLetter[];
  /** Resolves when `predicate` holds (checked every 20 ms); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, label: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ReferenceRelayOptions {
  /** Default `test-channel`. */
  readonly channel?: string;
  /** Default random. */
  readonly token?: string;
  /** Server heartbeat interval. Default 30 s (as the reference). */
  readonly heartbeatIntervalMs?: number;
  /** Unacked messages per connection. Default 100 (as the reference). */
  readonly maxInFlight?: number;
  /** Add `body`, `content_type` and `delivery_count` to webhook frames. Default false. */
  readonly additive?: boolean;
  /** Long-poll lease. Default 30 s. */
  readonly ackTimeoutMs?: number;
}

interface Message {
  readonly id: string;
  readonly webhookId: string;
  readonly sequence: number;
  readonly timestamp: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly contentType: string;
  deliveries: number;
}

interface Connection {
  readonly id: string;
  readonly protocol: 'websocket' | 'sse' | 'long_poll';
  readonly inFlight: Map<string, NodeJS.Timeout | undefined>;
  /** Pushes one frame (WebSocket/SSE); undefined for long-poll. */
  readonly push?: (frame: object, event: string) => void;
  silenced: boolean;
  close(): void;
}

/** The handshake/request as the relay saw it (for header assertions). */
export interface SeenRequest {
  readonly protocol: 'websocket' | 'sse' | 'long_poll' | 'ack';
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly accepted: boolean;
}

export interface ReferenceRelay extends RelayUnderTest {
  /** Every stream request (handshakes, SSE, polls, acks) with its headers. */
  readonly requests: SeenRequest[];
  /** Nacks received: id, retry, error. */
  readonly nacks: { messageId: string; retry: boolean; error: string | undefined }[];
  /** Open stream connections (WebSocket + SSE; long-poll counts while a lease is held). */
  connectionCount(): number;
  /** Accepted stream connections so far. */
  acceptedConnections(): number;
  pendingCount(): number;
  inFlightCount(): number;
  /** Stops all traffic on the connections open now (no heartbeats, no frames, socket reads paused). */
  silenceOpenConnections(): void;
  /** Destroys every connection (in-flight messages return to the queue). */
  dropConnections(): void;
  setToken(token: string): void;
  /** Ignores the next `n` acks (as if they were lost on the way); the messages stay in flight. */
  loseNextAcks(n: number): void;
}

const STREAM = /^\/connect\/stream\/([^/?]+)(\/sse|\/poll)?$/;

export async function startReferenceRelay(options: ReferenceRelayOptions = {}): Promise<ReferenceRelay> {
  const channel = options.channel ?? 'test-channel';
  let token = options.token ?? `tok_${randomBytes(8).toString('hex')}`;
  const heartbeatMs = options.heartbeatIntervalMs ?? 30_000;
  const maxInFlight = options.maxInFlight ?? 100;
  const additive = options.additive ?? false;
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000;

  const messages = new Map<string, Message>();
  const pending: string[] = [];
  const acked: string[] = [];
  const deadLetters: DeadLetter[] = [];
  const nacks: ReferenceRelay['nacks'] = [];
  const requests: SeenRequest[] = [];
  const connections = new Map<string, Connection>();
  const sockets = new Set<Socket>();
  const pollWaiters = new Set<() => void>();
  let sequence = 0;
  let connectionNumber = 0;
  let accepted = 0;
  let acksToLose = 0;

  const tokenOf = (req: IncomingMessage): string | undefined => {
    const header = req.headers.authorization;
    if (header !== undefined) return header.replace('Bearer ', '').trim();
    return new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
  };

  const wireFrame = (message: Message): Record<string, unknown> => {
    let payload: unknown;
    try {
      payload = JSON.parse(message.body.toString('utf8'));
    } catch {
      payload = message.body.toString('utf8');
    }
    return {
      type: 'webhook',
      message_id: message.id,
      sequence: message.sequence,
      webhook_id: message.webhookId,
      timestamp: message.timestamp,
      headers: message.headers,
      payload,
      ...(additive
        ? {
            body: message.body.toString('base64'),
            content_type: message.contentType,
            delivery_count: message.deliveries,
          }
        : {}),
    };
  };

  const requeue = (id: string) => {
    if (messages.has(id) && !pending.includes(id)) pending.unshift(id);
  };

  const release = (connection: Connection, id: string) => {
    const timer = connection.inFlight.get(id);
    if (timer !== undefined) clearTimeout(timer);
    connection.inFlight.delete(id);
  };

  const disconnect = (connection: Connection) => {
    if (!connections.delete(connection.id)) return;
    for (const id of [...connection.inFlight.keys()].reverse()) {
      release(connection, id);
      requeue(id);
    }
    pump();
  };

  /** Hands pending messages to push connections with capacity, and wakes waiting polls. */
  const pump = () => {
    for (const connection of connections.values()) {
      if (connection.push === undefined || connection.silenced) continue;
      while (pending.length > 0 && connection.inFlight.size < maxInFlight) {
        const id = pending.shift()!;
        const message = messages.get(id)!;
        message.deliveries += 1;
        connection.inFlight.set(id, undefined);
        connection.push(wireFrame(message), 'webhook');
      }
    }
    if (pending.length > 0) for (const wake of [...pollWaiters]) wake();
  };

  const settle = (
    connection: Connection,
    id: string,
    status: 'ack' | 'nack',
    retry: boolean,
    error?: string,
  ) => {
    if (!connection.inFlight.has(id)) return false;
    if (status === 'ack' && acksToLose > 0) {
      acksToLose -= 1;
      return true;
    }
    release(connection, id);
    if (status === 'ack') {
      acked.push(id);
      messages.delete(id);
    } else {
      nacks.push({ messageId: id, retry, error });
      if (retry) requeue(id);
      else {
        deadLetters.push({ messageId: id, error });
        messages.delete(id);
      }
    }
    pump();
    return true;
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const readAll = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };

  const handleSse = (req: IncomingMessage, res: ServerResponse) => {
    const ok = tokenOf(req) === token;
    requests.push({ protocol: 'sse', url: req.url ?? '', headers: req.headers, accepted: ok });
    if (!ok) return json(res, 401, { detail: 'Invalid channel token' });
    accepted += 1;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const id = `sse_${++connectionNumber}_${Math.floor(Date.now() / 1000)}`;
    const write = (event: string, data: object) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const connection: Connection = {
      id,
      protocol: 'sse',
      inFlight: new Map(),
      silenced: false,
      push: (frame, event) => write(event, frame),
      close: () => res.destroy(),
    };
    connections.set(id, connection);
    write('connected', { connection_id: id, channel });
    const heartbeat = setInterval(() => {
      if (!connection.silenced) write('heartbeat', { timestamp: new Date().toISOString() });
    }, heartbeatMs);
    res.on('close', () => {
      clearInterval(heartbeat);
      disconnect(connection);
    });
    pump();
  };

  const handlePoll = (req: IncomingMessage, res: ServerResponse) => {
    const ok = tokenOf(req) === token;
    requests.push({ protocol: 'long_poll', url: req.url ?? '', headers: req.headers, accepted: ok });
    if (!ok) return json(res, 401, { detail: 'Invalid channel token' });
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const timeout = Number(query.get('timeout') ?? 30);
    const max = Number(query.get('max_messages') ?? 10);
    if (!(timeout >= 1 && timeout <= 60 && max >= 1 && max <= 100))
      return json(res, 422, { detail: 'invalid' });
    accepted += 1;
    const connectorId = String(req.headers['x-connector-id'] ?? 'poll_default');
    const id = `poll_${connectorId}_${++connectionNumber}`;
    let done = false;
    const answer = () => {
      if (done || pending.length === 0) return;
      done = true;
      pollWaiters.delete(answer);
      clearTimeout(timer);
      const connection: Connection = {
        id,
        protocol: 'long_poll',
        inFlight: new Map(),
        silenced: false,
        close: () => undefined,
      };
      const frames: object[] = [];
      while (pending.length > 0 && frames.length < max) {
        const messageId = pending.shift()!;
        const message = messages.get(messageId)!;
        message.deliveries += 1;
        frames.push(wireFrame(message));
        // The lease: requeued when not settled in time.
        connection.inFlight.set(
          messageId,
          setTimeout(() => {
            connection.inFlight.delete(messageId);
            requeue(messageId);
            if (connection.inFlight.size === 0) connections.delete(id);
            pump();
          }, ackTimeoutMs),
        );
      }
      connections.set(id, connection);
      json(res, 200, { messages: frames, connection_id: id, channel, timestamp: new Date().toISOString() });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      pollWaiters.delete(answer);
      res.writeHead(204).end();
    }, timeout * 1000);
    res.on('close', () => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        pollWaiters.delete(answer);
      }
    });
    pollWaiters.add(answer);
    answer();
  };

  const handleAck = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    requests.push({ protocol: 'ack', url: req.url ?? '', headers: req.headers, accepted: true });
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const messageId = query.get('message_id');
    const connectionId = req.headers['x-connection-id'];
    if (messageId === null || typeof connectionId !== 'string' || req.headers.authorization === undefined) {
      return json(res, 422, { detail: 'missing field' });
    }
    const connection = connections.get(connectionId);
    if (connection === undefined) return json(res, 404, { detail: 'Connection not found' });
    if (tokenOf(req) !== token) return json(res, 401, { detail: 'Invalid token' });
    const status = (query.get('status') ?? 'ack') === 'ack' ? 'ack' : 'nack';
    const retry = query.get('retry') !== 'false';
    let error: string | undefined;
    if (additive && body.length > 0) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
        if (typeof parsed.error === 'string') error = parsed.error;
      } catch {
        // the reference reads only the query
      }
    }
    if (!settle(connection, messageId, status, retry, error))
      return json(res, 404, { detail: 'Message not in flight' });
    if (connection.protocol === 'long_poll' && connection.inFlight.size === 0)
      connections.delete(connection.id);
    return json(res, 200, { status: 'ok', message_id: messageId });
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const match = STREAM.exec(path);
    if (req.method === 'POST' && path === '/connect/ack') {
      void handleAck(req, res);
      return;
    }
    if (req.method === 'GET' && match !== null && decodeURIComponent(match[1]!) === channel) {
      if (match[2] === '/sse') return handleSse(req, res);
      if (match[2] === '/poll') return handlePoll(req, res);
    }
    json(res, 404, { detail: 'Not Found' });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const match = STREAM.exec(path);
    const ok =
      match !== null &&
      match[2] === undefined &&
      decodeURIComponent(match[1]!) === channel &&
      tokenOf(req) === token;
    requests.push({ protocol: 'websocket', url: req.url ?? '', headers: req.headers, accepted: ok });
    if (!ok) {
      // The reference closes before accepting, which the ASGI server turns into HTTP 403.
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      accepted += 1;
      const id = `wsc_${++connectionNumber}_${Math.floor(Date.now() / 1000)}`;
      const connection: Connection = {
        id,
        protocol: 'websocket',
        inFlight: new Map(),
        silenced: false,
        push: (frame) => ws.send(JSON.stringify(frame)),
        close: () => ws.terminate(),
      };
      connections.set(id, connection);
      ws.send(
        JSON.stringify({
          type: 'connected',
          connection_id: id,
          channel,
          timestamp: new Date().toISOString(),
        }),
      );
      const heartbeat = setInterval(() => {
        if (!connection.silenced) {
          const now = new Date().toISOString();
          ws.send(JSON.stringify({ type: 'heartbeat', timestamp: now, server_time: now }));
        }
      }, heartbeatMs);
      ws.on('message', (data, isBinary) => {
        if (isBinary || connection.silenced) return;
        let frame: { type?: unknown; message_id?: unknown; retry?: unknown; error?: unknown };
        try {
          frame = JSON.parse(data.toString()) as typeof frame;
        } catch {
          return;
        }
        if ((frame.type === 'ack' || frame.type === 'nack') && typeof frame.message_id === 'string') {
          settle(
            connection,
            frame.message_id,
            frame.type,
            frame.retry !== false,
            additive && typeof frame.error === 'string' ? frame.error : undefined,
          );
        }
      });
      ws.on('close', () => {
        clearInterval(heartbeat);
        disconnect(connection);
      });
      ws.on('error', () => undefined);
      // Stand-in for a half-open socket: silenceOpenConnections pauses reads.
      Object.assign(connection, {
        pauseSocket: () => (socket as Socket).pause(),
      });
      pump();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    channel,
    get token() {
      return token;
    },
    requests,
    nacks,
    publish(input) {
      const id = `msg_${randomBytes(8).toString('hex')}`;
      const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
      const contentType = input.contentType ?? 'application/json';
      messages.set(id, {
        id,
        webhookId: input.webhookId,
        sequence: ++sequence,
        timestamp: new Date().toISOString(),
        headers: { 'content-type': contentType, ...input.headers },
        body,
        contentType,
        deliveries: 0,
      });
      pending.push(id);
      pump();
      return id;
    },
    acked: () => acked,
    deadLetters: () => deadLetters,
    async waitFor(predicate, label, timeoutMs = 10_000) {
      const started = Date.now();
      while (!predicate()) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${label}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    connectionCount: () => [...connections.values()].filter((c) => c.protocol !== 'long_poll').length,
    acceptedConnections: () => accepted,
    pendingCount: () => pending.length,
    inFlightCount: () => [...connections.values()].reduce((sum, c) => sum + c.inFlight.size, 0),
    silenceOpenConnections() {
      for (const connection of connections.values()) {
        connection.silenced = true;
        (connection as { pauseSocket?: () => void }).pauseSocket?.();
      }
    },
    dropConnections() {
      for (const connection of [...connections.values()]) {
        connection.close();
        disconnect(connection);
      }
    },
    setToken(next) {
      token = next;
    },
    loseNextAcks(n) {
      acksToLose = n;
    },
    async close() {
      for (const connection of connections.values()) {
        for (const timer of connection.inFlight.values()) if (timer !== undefined) clearTimeout(timer);
      }
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

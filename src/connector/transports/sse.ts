/**
 * Server-Sent Events transport (`GET /connect/stream/{channel}/sse`); acks and nacks go over
 * `POST /connect/ack`. Every byte received counts as a sign of life for the heartbeat deadline.
 */
import type { IncomingMessage } from 'node:http';
import { parseServerFrame, ROUTES } from '../../protocol/frames.js';
import { authHeaders, baseUrl, cloudRequest, Deadline, once, postAck, readBody } from './shared.js';
import { ConnectFailure, type OpenTransport, type SessionEnd } from './types.js';

/** One parsed SSE event. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/**
 * Incremental SSE parser (WHATWG rules): lines end in LF, CRLF or CR; `event:`, `data:` (joined with
 * LF), `id:`; comments (`:`) ignored; a blank line dispatches an event that has data.
 */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  readonly #decoder = new TextDecoder('utf-8');

  push(chunk: Buffer, emit: (event: SseEvent) => void): void {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) return;
      // A lone CR at the end may be the first half of CRLF: wait for more.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) return;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line, emit);
    }
  }

  #line(line: string, emit: (event: SseEvent) => void): void {
    if (line === '') {
      if (this.#data.length > 0) {
        emit({
          event: this.#event === '' ? 'message' : this.#event,
          data: this.#data.join('\n'),
          id: this.#id,
        });
      }
      this.#event = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id') this.#id = value;
  }
}

export const openSse: OpenTransport = async (context, handlers, signal) => {
  const { config, logger } = context;
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let res: IncomingMessage;
  try {
    res = await cloudRequest(context.agents, {
      method: 'GET',
      url: baseUrl(config) + ROUTES.sse(config.channel),
      headers: { ...authHeaders(config), accept: 'text/event-stream', 'cache-control': 'no-cache' },
      signal: controller.signal,
      headersTimeoutMs: config.connection_timeout * 1000,
    });
  } catch (error) {
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) throw new ConnectFailure('stopped', 'stopped while connecting');
    throw new ConnectFailure('error', (error as Error).message, { cause: error });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    const text = (await readBody(res, 4096).catch(() => Buffer.alloc(0))).toString('utf8').slice(0, 200);
    controller.abort();
    const detail = `HTTP ${status} ${text}`.trim();
    if (status === 401 || status === 403) throw new ConnectFailure('auth_rejected', detail);
    if (status === 404) throw new ConnectFailure('channel_not_found', detail);
    if (status === 503 && /max connections/i.test(text)) throw new ConnectFailure('max_connections', detail);
    throw new ConnectFailure('error', detail);
  }

  const ended = once<SessionEnd>();
  let endReason: SessionEnd | undefined;
  let connectionId: string | undefined;
  const finish = (end: SessionEnd) => {
    endReason ??= end;
    deadline.stop();
    res.destroy();
    controller.abort();
    ended.settle(endReason);
  };
  const deadline = new Deadline(config.heartbeat_timeout * 1000, () =>
    finish({
      reason: 'heartbeat_timeout',
      detail: `no data from the relay for ${config.heartbeat_timeout}s`,
    }),
  );
  const parser = new SseParser();
  res.on('data', (chunk: Buffer) => {
    deadline.touch();
    parser.push(chunk, (event) => {
      switch (event.event) {
        case 'connected':
          try {
            const data = JSON.parse(event.data) as {
              connection_id?: unknown;
              heartbeat_interval_seconds?: unknown;
            };
            if (typeof data.connection_id === 'string') connectionId = data.connection_id;
            if (typeof data.heartbeat_interval_seconds === 'number' && data.heartbeat_interval_seconds > 0) {
              deadline.atLeast(data.heartbeat_interval_seconds * 1500);
            }
          } catch {
            logger.warn('ignoring a connected event that is not JSON');
          }
          break;
        case 'webhook': {
          let value: unknown;
          try {
            value = JSON.parse(event.data);
          } catch {
            logger.warn('ignoring a webhook event that is not JSON');
            break;
          }
          const parsed = parseServerFrame(JSON.stringify({ ...(value as object), type: 'webhook' }));
          if (parsed.ok && parsed.frame.type === 'webhook') handlers.onWebhook(parsed.frame);
          else
            logger.warn(
              { error: parsed.ok ? 'not a webhook' : parsed.error },
              'ignoring a bad webhook event',
            );
          break;
        }
        case 'error':
          if (event.data.includes('max_connections_reached')) {
            finish({ reason: 'max_connections', detail: 'relay: max connections reached' });
          } else {
            logger.warn({ data: event.data.slice(0, 200) }, 'relay sent an error event');
          }
          break;
        default:
          break; // heartbeat and unknown events: the touch above is all they do
      }
    });
  });
  res.on('end', () => finish({ reason: 'closed', detail: 'the relay ended the event stream' }));
  res.on('error', (error) => finish({ reason: 'error', detail: error.message }));
  res.on('close', () => finish({ reason: 'closed', detail: 'the event stream closed' }));

  return {
    protocol: 'sse',
    connectionId: () => connectionId,
    ack: (messageId) => postAck(context, connectionId, messageId, undefined),
    nack: (messageId, options) => postAck(context, connectionId, messageId, options),
    ended: ended.promise,
    close: () => finish({ reason: 'stopped', detail: 'closed by the connector' }),
  };
};

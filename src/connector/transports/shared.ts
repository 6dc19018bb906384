/**
 * Pieces shared by the transports: stream URLs, the auth headers, a small HTTP client over the cloud
 * agents, `POST /connect/ack`, and the heartbeat deadline.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CONNECTION_ID_HEADER, CONNECTOR_ID_HEADER, ROUTES, type NackFrame } from '../../protocol/frames.js';
import { sleep } from '../../shared/backoff.js';
import type { ConnectorConfig } from '../config.js';
import type { Agents } from '../tls.js';
import type { NackOptions, TransportContext } from './types.js';

/** `cloud_url` without trailing slashes. */
export function baseUrl(config: ConnectorConfig): string {
  return config.cloud_url.replace(/\/+$/, '');
}

/** The WebSocket URL: `http → ws`, `https → wss`. */
export function webSocketUrl(config: ConnectorConfig): string {
  return baseUrl(config).replace(/^http/, 'ws') + ROUTES.websocket(config.channel);
}

/** `Authorization: Bearer` and `X-Connector-ID`; the token never goes into a URL. */
export function authHeaders(config: ConnectorConfig): Record<string, string> {
  return {
    authorization: `Bearer ${config.token}`,
    ...(config.connector_id == null ? {} : { [CONNECTOR_ID_HEADER]: config.connector_id }),
    'user-agent': 'webhook-connect-connector',
  };
}

export interface CloudRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer;
  readonly signal: AbortSignal;
  /** Aborts when the response headers have not arrived in time (ms). */
  readonly headersTimeoutMs: number;
}

/** One request to the relay; resolves with the response (body unread). */
export function cloudRequest(agents: Agents, options: CloudRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const https = options.url.startsWith('https:');
    const req = (https ? httpsRequest : httpRequest)(options.url, {
      method: options.method,
      headers: {
        ...options.headers,
        ...(options.body === undefined ? {} : { 'content-length': options.body.length }),
      },
      agent: https ? agents.https : agents.http,
      signal: options.signal,
    });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('relay did not answer in time'), { code: 'ETIMEDOUT' })),
      options.headersTimeoutMs,
    );
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

/** Reads a response body (at most `limit` bytes are kept). */
export async function readBody(res: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new Error(`relay response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const ACK_ATTEMPTS = 3;

/**
 * `POST /connect/ack` for SSE and long-poll. The reference's query form (`message_id`, `status`,
 * `retry`) plus, additively, the same JSON object a WebSocket client would send (so a relay can read a
 * nack's `error`). Network errors and 5xx are retried twice; true only on HTTP 200.
 */
export async function postAck(
  context: TransportContext,
  connectionId: string | undefined,
  messageId: string,
  nack: NackOptions | undefined,
): Promise<boolean> {
  const query = new URLSearchParams({ message_id: messageId, status: nack === undefined ? 'ack' : 'nack' });
  if (nack !== undefined) query.set('retry', String(nack.retry));
  const frame: NackFrame | { type: 'ack'; message_id: string } =
    nack === undefined
      ? { type: 'ack', message_id: messageId }
      : {
          type: 'nack',
          message_id: messageId,
          retry: nack.retry,
          ...(nack.error === undefined ? {} : { error: nack.error.slice(0, 1000) }),
        };
  const body = Buffer.from(JSON.stringify(frame));
  for (let attempt = 0; attempt < ACK_ATTEMPTS; attempt++) {
    try {
      const res = await cloudRequest(context.agents, {
        method: 'POST',
        url: `${baseUrl(context.config)}${ROUTES.ack()}?${query.toString()}`,
        headers: {
          ...authHeaders(context.config),
          [CONNECTION_ID_HEADER]: connectionId ?? '',
          'content-type': 'application/json',
        },
        body,
        signal: AbortSignal.timeout(context.config.connection_timeout * 1000),
        headersTimeoutMs: context.config.connection_timeout * 1000,
      });
      const text = (await readBody(res, 64 * 1024)).toString('utf8');
      if (res.statusCode === 200) return true;
      if ((res.statusCode ?? 0) < 500) {
        context.logger.warn(
          { message_id: messageId, status: res.statusCode, response: text.slice(0, 200) },
          'relay refused the ack',
        );
        return false;
      }
    } catch (error) {
      if (attempt === ACK_ATTEMPTS - 1) {
        context.logger.warn({ message_id: messageId, err: error }, 'could not send the ack');
        return false;
      }
    }
    await sleep(200 * 2 ** attempt);
  }
  return false;
}

/**
 * The heartbeat deadline: `touch()` on every sign of life from the relay; when nothing arrived for
 * `deadlineMs`, `onExpire` runs once. Checked every `min(1 s, deadline/4)`. Active from the start of the
 * session (the reference waited for the first heartbeat — §10.2 item 24).
 */
export class Deadline {
  #last = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #deadlineMs: number;

  constructor(deadlineMs: number, onExpire: () => void) {
    this.#deadlineMs = deadlineMs;
    const every = Math.max(10, Math.min(1000, deadlineMs / 4));
    this.#timer = setInterval(() => {
      if (Date.now() - this.#last > this.#deadlineMs) {
        this.stop();
        onExpire();
      }
    }, every);
    this.#timer.unref();
  }

  touch(): void {
    this.#last = Date.now();
  }

  /** Widens the deadline (never narrows it), e.g. to cover a slower advertised heartbeat interval. */
  atLeast(ms: number): void {
    this.#deadlineMs = Math.max(this.#deadlineMs, ms);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** A promise with its resolver, settled at most once. */
export function once<T>(): { promise: Promise<T>; settle(value: T): void; settled(): boolean } {
  let resolve!: (value: T) => void;
  let done = false;
  const promise = new Promise<T>((r) => (resolve = r));
  return {
    promise,
    settle(value) {
      if (done) return;
      done = true;
      resolve(value);
    },
    settled: () => done,
  };
}

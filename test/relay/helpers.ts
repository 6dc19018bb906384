/* eslint-disable @typescript-eslint/no-explicit-any -- wire frames are read as loose JSON in tests */
/**
 * Helpers for relay tests: a receiver with `webhook_connect` webhooks (harness), webhook posts, and
 * minimal connector clients that speak the wire protocol directly (WebSocket, SSE, long-poll).
 */
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { startTestReceiver, type TestReceiver, type TestReceiverOptions } from '../harness/receiver.js';

export const TOKEN = 'channel-secret-token';
export const ADMIN = 'admin-secret-token';

export function relayWebhook(
  channel: string,
  config: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    data_type: 'json',
    module: 'webhook_connect',
    'module-config': { channel, channel_token: TOKEN, ...config },
    ...extra,
  };
}

export async function startRelay(
  config: Record<string, unknown> = {},
  options: Partial<TestReceiverOptions> = {},
): Promise<{ receiver: TestReceiver; url: string }> {
  const receiver = await startTestReceiver({
    webhooks: { hook: relayWebhook('ch', config) },
    ...options,
    // In-process tests isolate by a temp sqlite file per test; the backend-parameterised tests are the
    // process-level ones (processes.test.ts), which isolate by a random channel name.
    env: { WEBHOOK_CONNECT_ADMIN_TOKEN: ADMIN, WEBHOOK_CONNECT_BUFFER: 'sqlite', ...options.env },
  });
  const url = await receiver.listen();
  return { receiver, url };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): any;
}

/** One HTTP request with node:http (no keep-alive surprises). */
export function http(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  return http('POST', url, { body, headers: { 'content-type': 'application/json', ...headers } });
}

export const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  label: string,
  timeoutMs = 15_000,
) {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A WebSocket connector client recording frames; `autoAck` acks every webhook frame. */
export class WsClient {
  readonly frames: any[] = [];
  readonly webhooks: any[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(url: string, channel: string, options: { token?: string; autoAck?: boolean } = {}) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/connect/stream/${channel}`, {
      headers: auth(options.token ?? TOKEN),
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
    this.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      if (frame.type === 'webhook') {
        this.webhooks.push(frame);
        if (options.autoAck === true) this.send({ type: 'ack', message_id: frame.message_id });
      }
    });
  }

  get connectionId(): string | undefined {
    return this.frames.find((frame) => frame.type === 'connected')?.connection_id;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    await this.closed;
  }
}

/** Reads SSE events from a stream (minimal parser: `id:`, `event:`, `data:`, blank line). */
export class SseClient {
  readonly events: { event: string; id: string | undefined; data: any }[] = [];
  status = 0;
  readonly #req;
  readonly ended: Promise<void>;
  readonly ready: Promise<void>;

  constructor(
    url: string,
    channel: string,
    options: { token?: string; onWebhook?: (frame: any) => void } = {},
  ) {
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => (markReady = resolve));
    let markEnded: () => void = () => {};
    this.ended = new Promise((resolve) => (markEnded = resolve));
    this.#req = httpRequest(
      `${url}/connect/stream/${channel}/sse`,
      { headers: auth(options.token ?? TOKEN), agent: false },
      (res) => {
        this.status = res.statusCode ?? 0;
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let index: number;
          while ((index = buffered.indexOf('\n\n')) !== -1) {
            const block = buffered.slice(0, index);
            buffered = buffered.slice(index + 2);
            let event = 'message';
            let id: string | undefined;
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            const parsed = { event, id, data: JSON.parse(data.join('\n')) };
            this.events.push(parsed);
            if (event === 'connected' || event === 'error') markReady();
            if (event === 'webhook') options.onWebhook?.(parsed.data);
          }
        });
        res.on('end', markEnded);
        res.on('close', markEnded);
        if (this.status !== 200) markReady();
      },
    );
    this.#req.on('error', () => markEnded());
    this.#req.end();
  }

  get connectionId(): string | undefined {
    return this.events.find((event) => event.event === 'connected')?.data.connection_id;
  }

  webhooks(): any[] {
    return this.events.filter((event) => event.event === 'webhook').map((event) => event.data);
  }

  close(): void {
    this.#req.destroy();
  }
}

export function ackUrl(url: string, messageId: string, extra = '') {
  return `${url}/connect/ack?message_id=${encodeURIComponent(messageId)}${extra}`;
}

/**
 * Helpers for the hostile-input suite: raw-socket exchanges (for inputs an HTTP client will not send),
 * a liveness probe (the process still serves a normal webhook), and RSS sampling.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestReceiver } from '../harness/receiver.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Where the quiet sink writes (one directory per test process, removed when it exits). */
const sinkDir = mkdtempSync(join(tmpdir(), 'wc-security-'));
process.on('exit', () => rmSync(sinkDir, { recursive: true, force: true }));

/**
 * A webhook entry that accepts and stores payloads without printing them (the `log` module would echo
 * every hostile body to the test output).
 */
export function sink(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { module: 'save_to_disk', 'module-config': { base_dir: sinkDir }, ...extra };
}

/** A webhook entry every suite configures so that a follow-up request has somewhere to go. */
export const PROBE_WEBHOOK = { probe: sink() };

/** A normal webhook request succeeds: the process (and the app) is still up. */
export async function assertStillServing(receiver: TestReceiver, base?: string): Promise<void> {
  if (base === undefined) {
    const response = await receiver.app.inject({
      method: 'POST',
      url: '/webhook/probe',
      payload: '{"ok":true}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(response.statusCode, 200, `follow-up request answered ${response.statusCode}`);
    return;
  }
  const response = await fetch(`${base}/webhook/probe`, {
    method: 'POST',
    body: '{"ok":true}',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(response.status, 200, `follow-up request over the socket answered ${response.status}`);
  await response.arrayBuffer();
}

/** Port of a listening receiver's base URL. */
export function portOf(base: string): number {
  return Number(new URL(base).port);
}

export interface RawExchange {
  /** Everything the server sent. */
  readonly response: string;
  /** Status code of the first response line, or 0 when none arrived. */
  readonly status: number;
  /** The parsed JSON body of the first response, when there is one. */
  readonly json: { detail?: string; code?: string } | undefined;
  /** Whether the server closed (or reset) the connection before `waitMs` ran out. */
  readonly closedByServer: boolean;
}

/** Opens a socket; the caller writes to it. Tracks what comes back and whether the server closed it. */
export class RawClient {
  readonly socket: Socket;
  readonly #chunks: Buffer[] = [];
  #closed = false;
  readonly #closedPromise: Promise<void>;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    this.socket.on('error', () => {}); // EPIPE/ECONNRESET when the server cuts us off: that is the point
    this.#closedPromise = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.#closed = true;
        resolve();
      }),
    );
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connecting) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes unless the socket is already gone; returns whether it was written. */
  write(data: string | Buffer): boolean {
    if (this.#closed || this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(data);
    return true;
  }

  /** Waits for the server to close the connection, up to `waitMs`. */
  async waitClosed(waitMs: number): Promise<RawExchange> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#closedPromise,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
    return this.result();
  }

  /** Waits until a complete response head arrived (or `waitMs` passed). */
  async waitResponse(waitMs: number): Promise<RawExchange> {
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && !this.#closed && !this.text().includes('\r\n\r\n')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Give a short body a moment to follow its head.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return this.result();
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('latin1');
  }

  result(): RawExchange {
    const response = this.text();
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(response);
    const bodyStart = response.indexOf('\r\n\r\n');
    let json: RawExchange['json'];
    if (bodyStart !== -1) {
      const body = response.slice(bodyStart + 4);
      const start = body.indexOf('{');
      const end = body.indexOf('}', start);
      if (start !== -1 && end !== -1) {
        try {
          json = JSON.parse(body.slice(start, end + 1)) as RawExchange['json'];
        } catch {
          json = undefined;
        }
      }
    }
    return { response, status: match === null ? 0 : Number(match[1]), json, closedByServer: this.#closed };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends `data` on a fresh connection and waits for the answer (or the close). */
export async function rawRequest(port: number, data: string | Buffer, waitMs = 5000): Promise<RawExchange> {
  const client = new RawClient(port);
  try {
    await client.connected();
    client.write(data);
    return await client.waitResponse(waitMs);
  } finally {
    client.destroy();
  }
}

/** RSS in bytes after a GC when the runtime exposes one (node --expose-gc), otherwise as is. */
export function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

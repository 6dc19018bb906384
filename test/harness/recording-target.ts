/**
 * A recording HTTP target for connector tests: records method, path, headers and the exact body bytes of
 * every request, and answers according to its current mode — succeed (200), fail with a status, or stall
 * (never answer until the mode changes or the server closes).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The status answered (undefined while stalled). */
  status: number | undefined;
}

export type TargetMode =
  | { readonly kind: 'succeed'; readonly status?: number }
  | { readonly kind: 'fail'; readonly status: number; readonly body?: string }
  | { readonly kind: 'stall' };

export interface RecordingTarget {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests being answered or stalled right now. */
  active(): number;
  /** Most requests in progress at the same time so far. */
  maxActive(): number;
  setMode(mode: TargetMode): void;
  /** Per-request decision (overrides the mode when it returns one). */
  setHandler(handler: ((request: RecordedRequest) => TargetMode | undefined) | undefined): void;
  /** Delay before answering, in ms (default 0). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startRecordingTarget(): Promise<RecordingTarget> {
  const requests: RecordedRequest[] = [];
  const stalled = new Set<() => void>();
  const sockets = new Set<Socket>();
  let mode: TargetMode = { kind: 'succeed' };
  let handler: ((request: RecordedRequest) => TargetMode | undefined) | undefined;
  let delay = 0;
  let active = 0;
  let maxActive = 0;

  const answer = (res: ServerResponse, record: RecordedRequest, chosen: TargetMode) => {
    if (chosen.kind === 'stall') {
      const retry = () => {
        stalled.delete(retry);
        answer(res, record, handler?.(record) ?? mode);
      };
      stalled.add(retry);
      return;
    }
    const status = chosen.kind === 'succeed' ? (chosen.status ?? 200) : chosen.status;
    record.status = status;
    active -= 1;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(chosen.kind === 'fail' ? (chosen.body ?? `failing with ${status}`) : 'ok');
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        status: undefined,
      };
      requests.push(record);
      active += 1;
      maxActive = Math.max(maxActive, active);
      res.on('close', () => {
        if (record.status === undefined) active -= 1;
      });
      const respond = () => answer(res, record, handler?.(record) ?? mode);
      if (delay > 0) setTimeout(respond, delay);
      else respond();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    active: () => active,
    maxActive: () => maxActive,
    setMode(next) {
      mode = next;
      if (next.kind !== 'stall') for (const retry of [...stalled]) retry();
    },
    setHandler(next) {
      handler = next;
    },
    setDelay(ms) {
      delay = ms;
    },
    async close() {
      stalled.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

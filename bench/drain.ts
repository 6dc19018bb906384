/**
 * drain: N webhooks accepted at `POST /webhook/{id}` while no connector runs, then a consumer connects
 * and the clock runs until it has every one of them; messages/s per buffer, zero loss checked by counting
 * the unique ids carried in the bodies. The consumer is a minimal WebSocket client in this process that
 * acks every message in batches (one `message_ids` frame per event-loop turn) and does no other work, so
 * the figure is the relay's drain rate, not a local target's. The memory buffer, drained in the same run,
 * is the baseline the other buffers are compared with.
 *
 * N defaults to 10,000 (the issue asks for 100,000; the fill runs through HTTP at ingest speed, which on
 * a shared 2-vCPU machine would take minutes per buffer). `BENCH_DRAIN_N` overrides it.
 */
import { WebSocket } from 'ws';
import autocannon from 'autocannon';
import { relayWebhook } from './ingest.js';
import { spawnReceiver, type ChildServer } from './lib.js';
import { availableBuffers, benchChannel, bufferEnv, deleteChannel, type BufferKind } from './services.js';

const HOOK = 'bench_drain';
const TOKEN = 'bench-token';
const TIMEOUT_MS = 180_000;

export interface DrainResult {
  readonly n: number;
  readonly fillSeconds: number;
  readonly fillPerSecond: number;
  readonly fillNon2xx: number;
  readonly drainSeconds: number;
  readonly messagesPerSecond: number;
  readonly unique: number;
  readonly deliveries: number;
  readonly lost: number;
}

/** Posts `n` webhooks whose bodies each carry a unique id (autocannon `idReplacement`). */
export async function fill(
  url: string,
  n: number,
): Promise<{ seconds: number; non2xx: number; errors: number }> {
  const started = performance.now();
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"id":"[<id>]","type":"bench.drain","data":{"amount":4200,"currency":"eur"}}',
    idReplacement: true,
    amount: n,
    connections: 50,
  });
  return { seconds: (performance.now() - started) / 1000, non2xx: result.non2xx, errors: result.errors };
}

/**
 * Connects a WebSocket consumer to `channel`, acks everything, and resolves once `expected` unique body
 * ids arrived (or rejects after the timeout). Returns the seconds from the `connected` frame to the last one.
 */
export function drainOverWebSocket(
  baseUrl: string,
  channel: string,
  expected: number,
): Promise<{ seconds: number; unique: number; deliveries: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/connect/stream/${channel}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const seen = new Set<string>();
    let deliveries = 0;
    let started = 0;
    let pending: string[] = [];
    let flushing = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`drain timed out with ${seen.size}/${expected} after ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    const flush = () => {
      flushing = false;
      while (pending.length > 0) {
        ws.send(JSON.stringify({ type: 'ack', message_ids: pending.slice(0, 1000) }));
        pending = pending.slice(1000);
      }
    };
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as {
        type: string;
        message_id?: string;
        payload?: { id?: string };
      };
      if (frame.type === 'connected') started = performance.now();
      if (frame.type !== 'webhook' || frame.message_id === undefined) return;
      deliveries++;
      seen.add(frame.payload?.id ?? frame.message_id);
      pending.push(frame.message_id);
      if (!flushing) {
        flushing = true;
        setImmediate(flush);
      }
      if (seen.size === expected) {
        const seconds = (performance.now() - started) / 1000;
        clearTimeout(timer);
        // Let the last acks go out before closing.
        setTimeout(() => {
          flush();
          ws.close();
          resolve({ seconds, unique: seen.size, deliveries });
        }, 50);
      }
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function runDrainBench(): Promise<Record<string, unknown>> {
  const n = Number(process.env.BENCH_DRAIN_N ?? 10_000);
  // The memory buffer last: it is the baseline, and its append scans its rows (slow when it is full).
  const { kinds, skipped } = await availableBuffers(['memory', 'sqlite', 'redis', 'rabbitmq']);
  const results: Record<string, DrainResult> = {};
  for (const kind of kinds) {
    // RabbitMQ drains (and fills) several times slower than the others here (about 2,400 messages/s): a
    // smaller N keeps the run bounded; the figure is a rate, so N only changes its precision.
    const kindN = kind === 'rabbitmq' ? Math.min(n, Number(process.env.BENCH_DRAIN_N_RABBITMQ ?? 2000)) : n;
    const channel = benchChannel(`drain-${kind}`);
    let receiver: ChildServer | undefined;
    try {
      receiver = await spawnReceiver(
        { [HOOK]: relayWebhook(channel, { channel_token: TOKEN }) },
        bufferEnv(kind),
      );
      const filled = await fill(`${receiver.baseUrl}/webhook/${HOOK}`, kindN);
      console.log(
        `  ${kind}: ${kindN} accepted in ${filled.seconds.toFixed(1)} s (non-2xx ${filled.non2xx}); draining`,
      );
      const drained = await drainOverWebSocket(
        receiver.baseUrl,
        channel,
        kindN - filled.non2xx - filled.errors,
      );
      results[kind] = {
        n: kindN,
        fillSeconds: round(filled.seconds),
        fillPerSecond: Math.round(kindN / filled.seconds),
        fillNon2xx: filled.non2xx + filled.errors,
        drainSeconds: round(drained.seconds),
        messagesPerSecond: Math.round(drained.unique / drained.seconds),
        unique: drained.unique,
        deliveries: drained.deliveries,
        lost: kindN - filled.non2xx - filled.errors - drained.unique,
      };
      console.log(`  ${kind}: drained ${drained.unique} in ${drained.seconds.toFixed(2)} s`);
    } finally {
      await receiver?.stop();
      await deleteChannel(kind as BufferKind, channel, [HOOK]).catch(() => {});
    }
  }
  const base = results.memory?.messagesPerSecond ?? 1;
  const summary: Record<string, unknown> = {};
  for (const [kind, result] of Object.entries(results)) {
    summary[kind] = {
      n: result.n,
      'drain msg/s': result.messagesPerSecond,
      'vs memory': round(result.messagesPerSecond / base),
      'fill req/s': result.fillPerSecond,
      lost: result.lost,
      redelivered: result.deliveries - result.unique,
      'target ≥ 10,000/s': result.messagesPerSecond >= 10_000,
    };
  }
  console.table(summary);
  return { consumer: 'minimal WebSocket client, batched acks', n, ...results, summary, skipped };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

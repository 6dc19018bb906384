/**
 * connections: the receiver's RSS and CPU with 1,000 and 10,000 idle WebSocket connectors on one channel
 * (server heartbeats every 5 s, each client answering with a heartbeat frame), and the time to deliver one
 * webhook to one of them. The baseline is the same receiver with no connector, measured in the same run.
 * Clients are minimal `ws` clients in this process (a real connector process each would need 10,000
 * processes). Linux only (reads /proc/<pid>).
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { relayWebhook } from './ingest.js';
import { spawnReceiver } from './lib.js';
import { benchChannel, bufferEnv } from './services.js';

const HOOK = 'bench_connections';
const TOKEN = 'bench-token';
const HEARTBEAT_SECONDS = 5;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match?.[1] ?? 0) / 1024);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU share (1.0 = one core) and RSS of `pid` over `seconds` of idling. */
async function idleCost(pid: number, seconds: number): Promise<{ cpuPercentOfCore: number; rssMiB: number }> {
  const before = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return {
    cpuPercentOfCore: Math.round(((cpuSeconds(pid) - before) / seconds) * 1000) / 10,
    rssMiB: rssMiB(pid),
  };
}

function connect(url: string, onWebhook: () => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as { type: string; message_id?: string };
      if (frame.type === 'connected') resolve(ws);
      else if (frame.type === 'heartbeat')
        ws.send(JSON.stringify({ type: 'heartbeat', timestamp: new Date().toISOString() }));
      else if (frame.type === 'webhook') {
        ws.send(JSON.stringify({ type: 'ack', message_id: frame.message_id }));
        onWebhook();
      }
    });
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed with ${code}`)));
  });
}

export async function runConnectionsBench(options: {
  durationSeconds: number;
}): Promise<Record<string, unknown>> {
  const counts = (process.env.BENCH_CONNECTIONS ?? '1000,10000').split(',').map(Number);
  const idleSeconds = Math.max(HEARTBEAT_SECONDS * 2, options.durationSeconds);
  const channel = benchChannel('connections');
  const receiver = await spawnReceiver(
    {
      [HOOK]: relayWebhook(channel, {
        channel_token: TOKEN,
        max_connections: 10_000,
        heartbeat_interval_seconds: HEARTBEAT_SECONDS,
      }),
    },
    bufferEnv('sqlite'),
  );
  const pid = receiver.pid as number;
  const clients: WebSocket[] = [];
  const results: Record<string, unknown> = {};
  try {
    results.no_connectors = await idleCost(pid, idleSeconds);
    const url = `${receiver.baseUrl.replace(/^http/, 'ws')}/connect/stream/${channel}`;
    for (const count of counts) {
      let delivered: (() => void) | undefined;
      const onWebhook = () => delivered?.();
      const started = performance.now();
      while (clients.length < count) {
        const batch = Math.min(200, count - clients.length);
        clients.push(...(await Promise.all(Array.from({ length: batch }, () => connect(url, onWebhook)))));
      }
      const connectSeconds = (performance.now() - started) / 1000;
      const idle = await idleCost(pid, idleSeconds);
      const sent = performance.now();
      const got = new Promise<void>((resolve) => (delivered = resolve));
      const response = await fetch(`${receiver.baseUrl}/webhook/${HOOK}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"id":"one"}',
      });
      await got;
      const deliverMs = Math.round((performance.now() - sent) * 10) / 10;
      const open = clients.filter((ws) => ws.readyState === WebSocket.OPEN).length;
      results[`connectors_${count}`] = {
        ...idle,
        open,
        connectSeconds: Math.round(connectSeconds * 10) / 10,
        deliverOneMs: deliverMs,
        postStatus: response.status,
      };
      console.log(`  ${count} connectors:`, results[`connectors_${count}`]);
    }
    const tenThousand = results.connectors_10000 as { rssMiB: number } | undefined;
    results.targets = {
      ten_thousand_within_1_GiB: tenThousand === undefined ? 'not measured' : tenThousand.rssMiB <= 1024,
    };
    results.settings = { heartbeatSeconds: HEARTBEAT_SECONDS, idleSeconds, buffer: 'sqlite' };
    return results;
  } finally {
    for (const ws of clients) ws.terminate();
    await receiver.stop();
  }
}

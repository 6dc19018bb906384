/**
 * e2e latency: open-loop senders at fixed rates (default 200/s and 1,000/s) posting to a receiver on the
 * sqlite buffer; a real connector process per transport (websocket, sse, long_poll; HTTP mode, default
 * settings) delivers to a target in this process. Latency is the target's receipt minus the **scheduled**
 * send time (so a late sender does not hide queueing: no coordinated omission); both ends share this
 * process's clock. The baseline, measured in the same run, is the same sender posting straight to the
 * target. Variants are interleaved (2 rounds each); percentiles are over all rounds' samples.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayWebhook } from './ingest.js';
import { compiled, spawnReceiver, type ChildServer } from './lib.js';
import { benchChannel, bufferEnv } from './services.js';

type Transport = 'websocket' | 'sse' | 'long_poll';
const TRANSPORTS: readonly Transport[] = ['websocket', 'sse', 'long_poll'];
const TOKEN = 'bench-token';
const GRACE_MS = 5000;

export interface LatencySummary {
  readonly rate: number;
  readonly sent: number;
  readonly received: number;
  /** Sent but not at the target within the 5 s grace after the round (a backlog, not a loss). */
  readonly late: number;
  readonly non2xx: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** The local target: records the receipt time of every body id. */
class Target {
  readonly received = new Map<string, number>();
  readonly server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = performance.now();
        try {
          const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: string }).id;
          if (id !== undefined && !this.received.has(id)) this.received.set(id, at);
        } catch {
          // not one of ours
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

/** Posts `rate`/s to `url` for `seconds`, open loop; returns each id's scheduled time. */
async function sendOpenLoop(
  url: string,
  rate: number,
  seconds: number,
  label: string,
): Promise<{ scheduled: Map<string, number>; non2xx: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const scheduled = new Map<string, number>();
  let non2xx = 0;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && started + sent * interval <= now) {
        const id = `${label}-${sent}`;
        scheduled.set(id, started + sent * interval);
        const body = JSON.stringify({ id, type: 'bench.e2e', data: { amount: 4200, currency: 'eur' } });
        const req = request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            if ((res.statusCode ?? 0) >= 300) non2xx++;
            res.resume();
          },
        );
        req.on('error', () => non2xx++);
        req.end(body);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  agent.destroy();
  return { scheduled, non2xx };
}

function summarise(rate: number, runs: { scheduled: Map<string, number>; non2xx: number }[], target: Target) {
  const latencies: number[] = [];
  let sent = 0;
  let non2xx = 0;
  for (const run of runs) {
    sent += run.scheduled.size;
    non2xx += run.non2xx;
    for (const [id, at] of run.scheduled) {
      const received = target.received.get(id);
      if (received !== undefined) latencies.push(received - at);
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN);
  return {
    rate,
    sent,
    received: latencies.length,
    late: sent - latencies.length,
    non2xx,
    p50Ms: pct(0.5),
    p90Ms: pct(0.9),
    p99Ms: pct(0.99),
    maxMs: round(latencies[latencies.length - 1] ?? NaN),
  } satisfies LatencySummary;
}

function startConnector(
  dir: string,
  baseUrl: string,
  channel: string,
  protocol: Transport,
  targetUrl: string,
) {
  const file = join(dir, `connector-${protocol}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      cloud_url: baseUrl,
      channel,
      token: TOKEN,
      protocol,
      connector_id: `bench-${protocol}`,
      log_level: 'WARNING',
      default_target: { url: `${targetUrl}/${protocol}` },
    }),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [compiled('src/cli/main.ts'), 'connector', '--config', file],
    {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return child;
}

async function waitForDelivery(url: string, target: Target, label: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let i = 0; Date.now() < deadline; i++) {
    const { scheduled } = await sendOpenLoop(url, 50, 0.2, `${label}-warm${i}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    if ([...scheduled.keys()].every((id) => target.received.has(id))) return;
  }
  throw new Error(`${label}: nothing delivered within 60 s`);
}

export async function runE2eBench(options: { durationSeconds: number }): Promise<Record<string, unknown>> {
  const rates = (process.env.BENCH_E2E_RATES ?? '200,1000').split(',').map(Number);
  const transports = (process.env.BENCH_E2E_TRANSPORTS?.split(',') as Transport[] | undefined) ?? TRANSPORTS;
  const roundSeconds = options.durationSeconds / 2;
  const target = new Target();
  await target.start();
  const dir = mkdtempSync(join(tmpdir(), 'wc-bench-e2e-'));
  const channels = Object.fromEntries(transports.map((t) => [t, benchChannel(`e2e-${t}`)])) as Record<
    Transport,
    string
  >;
  const webhooks = Object.fromEntries(
    transports.map((t) => [`bench_${t}`, relayWebhook(channels[t], { channel_token: TOKEN })]),
  );
  let receiver: ChildServer | undefined;
  const connectors: ChildProcess[] = [];
  try {
    receiver = await spawnReceiver(webhooks, { ...bufferEnv('sqlite'), LOG_LEVEL: 'info' });
    const urls: Record<string, string> = { direct: `${target.url}/direct` };
    for (const t of transports) {
      connectors.push(startConnector(dir, receiver.baseUrl, channels[t], t, target.url));
      urls[t] = `${receiver.baseUrl}/webhook/bench_${t}`;
    }
    for (const [name, url] of Object.entries(urls)) await waitForDelivery(url, target, name);
    // Warm-up (module loading, then the JIT): 2 s at 200/s per variant, not recorded.
    for (const [name, url] of Object.entries(urls)) await sendOpenLoop(url, 200, 2, `${name}-warm`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const results: Record<string, LatencySummary> = {};
    for (const rate of rates) {
      const runs: Record<string, { scheduled: Map<string, number>; non2xx: number }[]> = {};
      for (let round = 0; round < 2; round++) {
        for (const [name, url] of Object.entries(urls)) {
          const run = await sendOpenLoop(url, rate, roundSeconds, `${name}-${rate}-${round}`);
          const deadline = Date.now() + GRACE_MS;
          while (Date.now() < deadline && [...run.scheduled.keys()].some((id) => !target.received.has(id))) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          (runs[name] ??= []).push(run);
        }
      }
      for (const [name, list] of Object.entries(runs))
        results[`${name}@${rate}`] = summarise(rate, list, target);
    }
    console.table(results);
    const ws1000 = results['websocket@1000'];
    return {
      settings: {
        buffer: 'sqlite',
        roundsPerVariant: 2,
        secondsPerRound: roundSeconds,
        connector: 'default settings, HTTP mode',
      },
      ...results,
      targets:
        ws1000 === undefined
          ? { websocket_at_1000: 'not measured' }
          : { websocket_1000_p50_le_3ms: ws1000.p50Ms <= 3, websocket_1000_p99_le_15ms: ws1000.p99Ms <= 15 },
    };
  } finally {
    for (const child of connectors) child.kill('SIGKILL');
    await receiver?.stop();
    target.server.closeAllConnections();
    target.server.close();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

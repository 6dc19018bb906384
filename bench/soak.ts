/**
 * Soak run (issue 7): `npm run soak [-- --minutes 10 --rate 100 --buffer sqlite]`.
 *
 * A real receiver (`serve`, `webhook_connect` module) and a real connector (`connector --config`,
 * WebSocket) deliver to a recording target in this process (the e2e stack of `test/e2e/stack.ts`). Webhooks
 * are posted at a steady `--rate` per second, each carrying a unique ledger id (`test/faults/ledger.ts`);
 * once a minute the connector is stopped — SIGTERM and SIGKILL alternately — and started again. Every
 * few seconds the receiver's and the connector's RSS (`/proc/<pid>/status`) and the receiver's event-loop
 * delay p99 (`nodejs_eventloop_lag_p99_seconds` from its `/metrics`, reset by prom-client at each scrape,
 * so each sample covers the interval since the previous one) are sampled and a progress line printed.
 *
 * At the end: wait for every accepted id to arrive (up to 2 min), print a per-minute table and the ledger,
 * write `bench/results/soak.json`, and exit 1 when an accepted webhook was lost.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  BUFFERS,
  httpCall,
  serviceUnavailable,
  Stack,
  waitUntil,
  type BufferKind,
} from '../test/e2e/stack.js';
import { Ledger } from '../test/faults/ledger.js';
import { writeResult } from './lib.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '100' },
    buffer: { type: 'string', default: 'sqlite' },
    'sample-seconds': { type: 'string', default: '5' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const sampleSeconds = Number(values['sample-seconds']);
const buffer = values.buffer as BufferKind;
if (!(minutes > 0) || !(rate > 0) || !(sampleSeconds > 0) || !BUFFERS.includes(buffer)) {
  console.error(
    `usage: npm run soak -- [--minutes N>0] [--rate N>0] [--buffer ${BUFFERS.join('|')}] [--sample-seconds N]`,
  );
  process.exit(2);
}
const unavailable = await serviceUnavailable(buffer);
if (unavailable !== undefined) {
  console.error(`soak: the ${buffer} buffer cannot run here: ${unavailable}`);
  process.exit(2);
}

/** Resident set size of a process in bytes, from /proc (undefined when it is gone). */
function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** The receiver's event-loop delay p99 since the previous scrape, in ms. */
async function eventLoopP99Ms(url: string): Promise<number | undefined> {
  try {
    const answer = await httpCall('GET', `${url}/metrics`, { timeoutMs: 5000 });
    const match = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)$/m.exec(answer.text);
    return match === null ? undefined : Number(match[1]) * 1000;
  } catch {
    return undefined;
  }
}

interface MinuteSamples {
  receiverRss: number[];
  connectorRss: number[];
  eventLoopP99Ms: number[];
  restart?: string;
}

const MiB = 1024 * 1024;
const mib = (bytes: number | undefined) => (bytes === undefined ? '-' : `${Math.round(bytes / MiB)}`);
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

const stack = await Stack.start({ buffer, transport: 'websocket' });
const ledger = new Ledger(`soak-${buffer}`, stack);
const perMinute: MinuteSamples[] = [];
const started = Date.now();
const durationMs = minutes * 60_000;
let inFlight = 0;
let maxInFlight = 0;
let launched = 0;
let restarts = 0;
let exitCode = 0;

try {
  console.log(
    `soak: ${minutes} min at ${rate} webhooks/s on ${buffer}; receiver pid ${stack.receiver?.child.pid}, ` +
      `connector pid ${stack.connector?.child.pid}`,
  );

  // Steady sender: every 10 ms, launch the posts due so far (at most 1,000 outstanding, so a stalled
  // receiver shows up as a shortfall instead of unbounded concurrency).
  const sending = new Promise<void>((resolve) => {
    const posts = new Set<Promise<unknown>>();
    const timer = setInterval(() => {
      const elapsed = Date.now() - started;
      const due = Math.min(Math.floor((elapsed / 1000) * rate), Math.floor((durationMs / 1000) * rate));
      while (launched < due && inFlight < 1000) {
        launched += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const post: Promise<unknown> = ledger.postOne().finally(() => {
          inFlight -= 1;
          posts.delete(post);
        });
        posts.add(post);
      }
      if (elapsed >= durationMs) {
        clearInterval(timer);
        void Promise.allSettled([...posts]).then(() => resolve());
      }
    }, 10);
  });

  const minuteOf = (now: number) => Math.floor((now - started) / 60_000);
  const bucket = (index: number) =>
    (perMinute[index] ??= { receiverRss: [], connectorRss: [], eventLoopP99Ms: [] });

  // Sampler and connector restarts (once a minute, SIGTERM and SIGKILL alternately).
  let nextRestartAt = started + 60_000;
  let restarting: Promise<void> | undefined;
  while (Date.now() - started < durationMs) {
    await new Promise((resolve) => setTimeout(resolve, sampleSeconds * 1000));
    const now = Date.now();
    if (now - started >= durationMs) break;
    const samples = bucket(minuteOf(now));
    const receiverRss = rssOf(stack.receiver?.child.pid);
    const connectorRss = rssOf(stack.connector?.child.pid);
    const p99 = await eventLoopP99Ms(stack.url);
    if (receiverRss !== undefined) samples.receiverRss.push(receiverRss);
    if (connectorRss !== undefined) samples.connectorRss.push(connectorRss);
    if (p99 !== undefined) samples.eventLoopP99Ms.push(p99);
    const counts = ledger.counts();
    console.log(
      `[soak ${clock(now - started)}] sent ${counts.sent}, accepted ${counts.accepted}, delivered ${counts.delivered}, ` +
        `duplicates ${counts.duplicates}, in flight ${inFlight}; RSS receiver ${mib(receiverRss)} MiB, connector ` +
        `${mib(connectorRss)} MiB; event loop p99 ${p99 === undefined ? '-' : round(p99)} ms; ` +
        `load ${loadavg()
          .map((value) => round(value, 2))
          .join(' ')}`,
    );
    if (restarting === undefined && now >= nextRestartAt && now - started < durationMs - 10_000) {
      nextRestartAt += 60_000;
      restarts += 1;
      const signal = restarts % 2 === 1 ? 'SIGTERM' : 'SIGKILL';
      samples.restart = signal;
      restarting = restartConnector(signal, restarts).finally(() => {
        restarting = undefined;
      });
    }
  }
  await restarting;
  await sending;
  const sentAt = Date.now();
  console.log(`soak: sending done (${launched} posts); waiting for every accepted webhook to arrive...`);
  try {
    await waitUntil(() => ledger.missing().length === 0, 'every accepted id delivered', 120_000);
  } catch (error) {
    console.error(String(error));
  }
  const drainMs = Date.now() - sentAt;
  const counts = ledger.counts();
  const byId = ledger.deliveries();
  const duplicated = [...byId].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);

  const table = perMinute.map((samples, minute) => {
    const min = (list: number[]) => (list.length === 0 ? undefined : Math.min(...list));
    const max = (list: number[]) => (list.length === 0 ? undefined : Math.max(...list));
    return {
      minute: minute + 1,
      receiver_rss_min_mib: round((min(samples.receiverRss) ?? NaN) / MiB),
      receiver_rss_max_mib: round((max(samples.receiverRss) ?? NaN) / MiB),
      connector_rss_min_mib: round((min(samples.connectorRss) ?? NaN) / MiB),
      connector_rss_max_mib: round((max(samples.connectorRss) ?? NaN) / MiB),
      eventloop_p99_max_ms: round(max(samples.eventLoopP99Ms) ?? NaN),
      eventloop_p99_median_ms: round(median(samples.eventLoopP99Ms) ?? NaN),
      samples: samples.receiverRss.length,
      connector_restart: samples.restart ?? '',
    };
  });
  console.table(table);
  const lastLine = ledger.line(counts);
  console.log(lastLine);
  if (duplicated.length > 0)
    console.log(`duplicates (${duplicated.length} ids): ${duplicated.slice(0, 50).join(', ')}`);
  const path = writeResult({
    name: 'soak',
    results: {
      command: `npm run soak -- --minutes ${minutes} --rate ${rate} --buffer ${buffer}`,
      buffer,
      minutes,
      rate_per_second: rate,
      sent: counts.sent,
      accepted: counts.accepted,
      refused: Object.fromEntries(ledger.refusals),
      delivered_unique: counts.delivered,
      duplicates: counts.duplicates,
      duplicate_ids: duplicated,
      delivered_but_unconfirmed: counts.unconfirmed,
      lost: counts.lost,
      connector_restarts: restarts,
      max_posts_in_flight: maxInFlight,
      drain_after_sending_ms: drainMs,
      per_minute: table,
    },
  });
  console.log(`wrote ${path}`);
  if (counts.lost > 0) {
    console.error(
      `soak: ${counts.lost} accepted webhooks lost, e.g. ${ledger.missing().slice(0, 10).join(', ')}`,
    );
    exitCode = 1;
  }
} catch (error) {
  console.error(error);
  console.error(stack.describe());
  exitCode = 1;
} finally {
  await stack.dispose();
}
process.exit(exitCode);

function median(list: readonly number[]): number | undefined {
  if (list.length === 0) return undefined;
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Stops the connector with `signal` (SIGTERM: waits up to 30 s for it to exit, then kills it) and starts a new one. */
async function restartConnector(signal: 'SIGTERM' | 'SIGKILL', n: number): Promise<void> {
  const proc = stack.connector;
  if (proc !== undefined && !proc.exited()) {
    const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
    proc.child.kill(signal);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  const at = Date.now();
  await stack.startConnector(`restart-${n}`);
  console.log(
    `[soak ${clock(Date.now() - started)}] connector restarted after ${signal} (#${n}, up in ${Date.now() - at} ms, pid ${stack.connector?.child.pid})`,
  );
}

/**
 * receiver-cost: CPU instructions per webhook request in the receiver with the synchronous no-op module
 * (bench/noop-receiver.ts, compiled), counted by valgrind's callgrind. Instruction counts do not drift with
 * the load of a shared machine the way timings do, so two commits can be compared to a fraction of a
 * percent.
 *
 * The receiver runs under `valgrind --tool=callgrind` (every thread of the process is counted: the event
 * loop, V8's compiler and GC helpers, libuv). A native client in this process sends `warmup` requests over
 * `connections` keep-alive connections (one request in flight per connection), then asks callgrind to dump
 * its counters (`callgrind_control --dump`, which also zeroes them), sends `requests` more identical
 * requests, and dumps again. Instructions per request = the second dump's total / `requests`. Timers
 * that run while the window is open (a few per second of wall time) are included; they are small next to
 * 20,000 requests.
 *
 * `npm run bench -- receiver-cost` or `node --import tsx bench/receiver-cost.ts`. Environment:
 * `BENCH_COST_REQUESTS` (default 20000), `BENCH_COST_WARMUP` (default 10000), `BENCH_COST_CONNECTIONS`
 * (default 10); `BENCH_COST_KEEP=1` keeps the callgrind dumps (for `callgrind_annotate`). Needs `valgrind` (with `callgrind_control`) on the PATH. Under callgrind the receiver
 * runs about 50 times slower than natively: one run takes 2–4 minutes.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { INGEST_BODY } from './ingest.js';
import { compileCheckout, receiverArgs, writeResult } from './lib.js';

const HOOK = 'bench_ingest';
/**
 * Its own build directory (not lib.ts's `.tmp/bench-build`), so another benchmark started from the same
 * checkout while this one runs cannot delete or replace the build under it.
 */
const BUILD_DIR = '.tmp/receiver-cost-build';

/** Compiles the checkout into this benchmark's own directory; returns the no-op receiver's path. */
function compileReceiver(): string {
  compileCheckout(BUILD_DIR);
  const script = join(BUILD_DIR, 'bench/noop-receiver.js');
  if (!existsSync(script)) throw new Error('tsc produced no bench/noop-receiver.js');
  return script;
}

export interface ReceiverCostOptions {
  readonly requests?: number;
  readonly warmup?: number;
  readonly connections?: number;
}

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export async function runReceiverCostBench(
  options: ReceiverCostOptions = {},
): Promise<Record<string, unknown>> {
  const requests = options.requests ?? envNumber('BENCH_COST_REQUESTS', 20_000);
  const warmup = options.warmup ?? envNumber('BENCH_COST_WARMUP', 10_000);
  const connections = options.connections ?? envNumber('BENCH_COST_CONNECTIONS', 10);
  const script = compileReceiver();
  const args = receiverArgs({ [HOOK]: { data_type: 'json', module: 'bench_noop' } });
  const dir = mkdtempSync(join(tmpdir(), 'wc-cost-'));
  const outFile = join(dir, 'callgrind.out');
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${outFile}`, process.execPath, script, ...args],
    { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`receiver did not start: ${output}${stderr}`)),
        300_000,
      );
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on http:\/\/[^\s:]+:(\d+)/.exec(output);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          child.stdout?.removeAllListeners('data');
          child.stdout?.resume();
          resolve(Number(match[1]));
        }
      });
      child.on('exit', (code) => reject(new Error(`receiver exited with ${code}: ${output}${stderr}`)));
    });
    const pid = child.pid as number;
    const started = Date.now();
    await send(port, warmup, connections);
    const warmupInstructions = await dump(pid, `${outFile}.1`);
    const measuredAt = Date.now();
    await send(port, requests, connections);
    const measuredSeconds = (Date.now() - measuredAt) / 1000;
    const measuredInstructions = await dump(pid, `${outFile}.2`);
    const result = {
      settings: { requests, warmup, connections, bodyBytes: Buffer.byteLength(INGEST_BODY) },
      instructionsPerRequest: Math.round(measuredInstructions / requests),
      measuredInstructions,
      warmupInstructions,
      wallSecondsUnderValgrind: { warmup: (measuredAt - started) / 1000, measured: measuredSeconds },
    };
    console.log(`receiver-cost: ${result.instructionsPerRequest} instructions per request`);
    return result;
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    if (process.env.BENCH_COST_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log(`callgrind dumps kept in ${dir}`);
  }
}

/** Asks callgrind to dump (and zero) its counters and returns the dump's instruction total. */
async function dump(pid: number, file: string): Promise<number> {
  await promisify(execFile)('callgrind_control', ['--dump', String(pid)]);
  for (let waited = 0; waited < 120_000; waited += 100) {
    if (existsSync(file)) {
      const match = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'utf8'));
      if (match?.[1] !== undefined) return Number(match[1]);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`callgrind wrote no ${file}`);
}

/** Sends `total` identical requests over `connections` keep-alive sockets, one in flight on each. */
async function send(port: number, total: number, connections: number): Promise<void> {
  const request = Buffer.from(
    `POST /webhook/${HOOK} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(INGEST_BODY)}\r\n\r\n${INGEST_BODY}`,
  );
  let issued = 0;
  const one = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      let pending: Buffer = Buffer.alloc(0);
      const next = () => {
        if (issued >= total) {
          socket.end();
          return resolve();
        }
        issued++;
        socket.write(request);
      };
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = pending.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length < end + 4 + length) return;
          if (!head.startsWith('HTTP/1.1 200 ')) {
            return reject(new Error(`unexpected response: ${head.split('\r\n')[0] ?? ''}`));
          }
          pending = pending.subarray(end + 4 + length);
          next();
        }
      });
      next();
    });
  const sockets = await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  await Promise.all(sockets.map(one));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runReceiverCostBench();
  console.log(JSON.stringify(results, null, 2));
  console.log(`wrote ${writeResult({ name: 'receiver-cost', results })}`);
}

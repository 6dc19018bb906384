/**
 * Benchmark harness: starts servers as child processes (so the load generator never shares their event
 * loop), drives them with autocannon, and writes machine-readable results with the machine, Node version
 * and commit. Every benchmark measures its baseline in the same run and reports ratios, because absolute
 * numbers drift on shared machines.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

/** Where the benchmark servers are compiled to (inside the checkout, so `node_modules` resolves). */
const BUILD_DIR = '.tmp/bench-build';
let built = false;

/**
 * Compiles the whole checkout with tsc into `buildDir` (replacing it). tsc still emits on a type error: a
 * work-in-progress checkout can be measured, and type errors are `npm run typecheck`'s business.
 */
export function compileCheckout(buildDir: string): void {
  console.log(`compiling the checkout (tsc) into ${buildDir}...`);
  rmSync(buildDir, { recursive: true, force: true });
  try {
    execFileSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit', 'false', '--outDir', buildDir],
      { stdio: 'inherit' },
    );
  } catch {
    console.warn('tsc reported errors (above); measuring the JavaScript it emitted anyway');
  }
  // The CLI reads its version from the package.json two levels up, as from dist/.
  copyFileSync('package.json', join(buildDir, 'package.json'));
}

/**
 * The compiled form of `script` (a `.ts` path relative to the checkout), run as the product ships
 * (`dist/`), not through tsx's loader, whose per-call wrappers and hooks cost several percent of a
 * server's CPU. The checkout is compiled once per benchmark run.
 */
export function compiled(script: string): string {
  if (!built) {
    compileCheckout(BUILD_DIR);
    built = true;
  }
  return join(BUILD_DIR, script.replace(/\.ts$/, '.js'));
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP90Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly total: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly connections?: number;
  readonly durationSeconds?: number;
}

/** Runs autocannon against one URL with a fixed body and headers. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    body: options.body,
    headers: options.headers,
    connections: options.connections ?? 50,
    duration: options.durationSeconds ?? 10,
  });
  return {
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP90Ms: result.latency.p90,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

/**
 * Measures several variants in interleaved rounds (A B C, A B C, ...) and keeps each variant's median
 * round, so a burst of load from elsewhere on a shared machine hits every variant alike.
 */
export async function loadInterleaved(
  variants: Record<string, Omit<LoadOptions, 'durationSeconds'>>,
  options: { rounds: number; secondsPerRound: number },
): Promise<Record<string, LoadResult & { rounds: number[] }>> {
  const runs: Record<string, LoadResult[]> = {};
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, variant] of Object.entries(variants)) {
      (runs[name] ??= []).push(await load({ ...variant, durationSeconds: options.secondsPerRound }));
    }
  }
  const result: Record<string, LoadResult & { rounds: number[] }> = {};
  for (const [name, list] of Object.entries(runs)) {
    const sorted = [...list].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
    const median = sorted[Math.floor(sorted.length / 2)] as LoadResult;
    result[name] = { ...median, rounds: list.map((run) => Math.round(run.requestsPerSecond)) };
  }
  return result;
}

export interface ChildServer {
  readonly baseUrl: string;
  /** The child's process id (for RSS / CPU readings from /proc). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Spawns `node <compiled script> ...args` and waits for it to print `listening on <url>`. */
export async function spawnServer(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  // `BENCH_NODE_ARGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to every server's node.
  const childEnv: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'info', ...env };
  const extra = (childEnv.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  delete childEnv.BENCH_NODE_ARGS;
  const child: ChildProcess = spawn(process.execPath, [...extra, compiled(script), ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${output}`));
    }, 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (https?:\/\/[^\s"]+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        // Keep draining stdout so the child never blocks on a full pipe.
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return {
    baseUrl,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Writes a receiver's config files (`webhooks`, no connections) into a new temp dir and returns the
 * arguments that listen on a free loopback port with them.
 */
export function receiverArgs(webhooks: Record<string, unknown>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'wc-bench-'));
  writeFileSync(join(dir, 'webhooks.json'), JSON.stringify(webhooks));
  writeFileSync(join(dir, 'connections.json'), '{}');
  return [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--webhooks',
    join(dir, 'webhooks.json'),
    '--connections',
    join(dir, 'connections.json'),
  ];
}

/** Starts `serve` (or `options.script`) with `webhooks` on a free port. */
export async function spawnReceiver(
  webhooks: Record<string, unknown>,
  env: Record<string, string> = {},
  options: { script?: string; args?: readonly string[] } = {},
): Promise<ChildServer> {
  return spawnServer(
    options.script ?? 'src/cli/main.ts',
    [...(options.args ?? ['serve']), ...receiverArgs(webhooks)],
    env,
  );
}

export interface BenchReport {
  readonly name: string;
  readonly results: Record<string, unknown>;
}

/** Machine facts recorded with every result. */
export function machine() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    // Load average (1, 5, 15 min) when the result was written: on a shared machine, read it with the figures.
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
    commit,
    date: new Date().toISOString(),
  };
}

export function writeResult(report: BenchReport): string {
  mkdirSync('bench/results', { recursive: true });
  const path = join('bench/results', `${report.name}.json`);
  writeFileSync(
    path,
    `${JSON.stringify({ name: report.name, machine: machine(), results: report.results }, null, 2)}\n`,
  );
  return path;
}

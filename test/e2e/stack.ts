/**
 * End-to-end stack with REAL processes: a receiver (`webhook-connect serve` with two `webhook_connect`
 * webhooks feeding one channel, buffer chosen by `WEBHOOK_CONNECT_BUFFER`), a connector
 * (`webhook-connect connector --config FILE`) and the recording target (in this test process).
 *
 * Isolation: a temp dir per stack (config files, sqlite file), a unique channel name per stack (the
 * redis and rabbitmq backends take no key/queue prefix from the environment, so the channel is what
 * keeps stacks apart); `dispose` SIGKILLs both processes, closes the target, deletes the temp dir, the
 * channel's Redis keys (`webhook_connect:{channel}:*`) and its RabbitMQ queues.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteChannelData, serviceUrls, whyUnavailable } from '../harness/services.js';
import {
  startRecordingTarget,
  type RecordedRequest,
  type RecordingTarget,
} from '../harness/recording-target.js';

export type BufferKind = 'sqlite' | 'redis' | 'rabbitmq';
export type Transport = 'websocket' | 'sse' | 'long_poll';

export const BUFFERS: readonly BufferKind[] = ['sqlite', 'redis', 'rabbitmq'];
export const TRANSPORTS: readonly Transport[] = ['websocket', 'sse', 'long_poll'];

const REQUIRED = process.env.WEBHOOK_CONNECT_REQUIRE_SERVICES === '1';

/** The webhook ids feeding the channel: a JSON webhook and a `data_type: blob` one. */
export const JSON_HOOK = 'e2e_json';
export const BLOB_HOOK = 'e2e_blob';
/** GitHub webhook secret shared by the sender, the receiver's `provider` check and the target. */
export const GITHUB_SECRET = 'e2e-github-secret-\u00e9';
export const ADMIN_TOKEN = 'e2e-admin-token';
export const CHANNEL_TOKEN = 'e2e-channel-token';

// ---------------------------------------------------------------------------------------------------------
// Services

const availability = new Map<BufferKind, Promise<string | undefined>>();

/**
 * Undefined when the buffer's service can be used; else the reason, printed once as one loud line.
 * With `WEBHOOK_CONNECT_REQUIRE_SERVICES=1` an unreachable service throws instead (the test fails).
 */
export function serviceUnavailable(kind: BufferKind): Promise<string | undefined> {
  let pending = availability.get(kind);
  if (pending === undefined) {
    pending = whyUnavailable(kind).then((reason) => {
      if (reason !== undefined && !REQUIRED)
        console.warn(`SKIPPED e2e tests on the ${kind} buffer: ${reason}`);
      return reason;
    });
    availability.set(kind, pending);
  }
  return pending.then((reason) => {
    if (reason !== undefined && REQUIRED) throw new Error(`WEBHOOK_CONNECT_REQUIRE_SERVICES=1: ${reason}`);
    return reason;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Small utilities

export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  label: string | (() => string),
  timeoutMs: number,
): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof label === 'string' ? label : label()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function githubSignature(body: Buffer, secret = GITHUB_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a GitHub receiver does: recompute the HMAC over the bytes received and compare in constant time. */
export function githubSignatureVerifies(body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(githubSignature(body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Answer {
  readonly status: number;
  readonly text: string;
}

export function httpCall(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: Buffer | string | undefined; timeoutMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Webhooks the sender posts

export interface Sent {
  readonly n: number;
  readonly webhookId: string;
  readonly contentType: string;
  readonly body: Buffer;
  readonly hash: string;
}

/**
 * Webhook `n`, cycling through three shapes: JSON with odd whitespace (tabs, CRLF, spaces around `:`,
 * escaped and literal non-ASCII, trailing newline), binary bytes (every byte value, so invalid UTF-8)
 * posted to the `data_type: blob` webhook, and compact JSON with a charset parameter. Every body is
 * unique (it carries `n`, or random bytes plus `n`), so a delivered body identifies its webhook.
 */
export function makeWebhook(n: number): Sent {
  let webhookId = JSON_HOOK;
  let contentType: string;
  let body: Buffer;
  switch (n % 3) {
    case 0:
      contentType = 'application/json';
      body = Buffer.from(
        `{ "n" :\t${n} ,\r\n  "action":"opened",   "text" : "h\u00e9llo \\u00e9 \\ud83d\\ude00 \u{1f680}",\n\t"nested":{"a":[ 1,2 , 3 ],"b" :null }  ,"f": 1.50}\r\n  \n`,
        'utf8',
      );
      break;
    case 1: {
      webhookId = BLOB_HOOK;
      contentType = 'application/octet-stream';
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7 + n) % 256));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(n);
      body = Buffer.concat([header, randomBytes(16 + (n % 97)), all, Buffer.from([0xff, 0xfe, 0x00, 0xc3])]);
      break;
    }
    default:
      contentType = 'application/json; charset=utf-8';
      body = Buffer.from(JSON.stringify({ n, action: 'closed', items: [n, n * 2, { deep: [true, false] }] }));
  }
  return { n, webhookId, contentType, body, hash: sha256(body) };
}

// ---------------------------------------------------------------------------------------------------------
// The stack

export interface StackOptions {
  readonly buffer: BufferKind;
  readonly transport: Transport;
  /** Extra channel settings (`module-config`). */
  readonly channel?: Record<string, unknown>;
  /** Extra connector settings (top level). */
  readonly connector?: Record<string, unknown>;
  /** Extra default-target settings. */
  readonly target?: Record<string, unknown>;
}

interface Proc {
  readonly child: ChildProcess;
  output(): string;
  exited(): boolean;
  /** Lines of output containing `text` so far (counted line by line, not affected by the output cap). */
  count(text: string): number;
}

const OUTPUT_LIMIT = 400_000;
/** Log texts counted per process. */
const CONNECTED = 'connected to the relay';
/** Node process warnings (e.g. MaxListenersExceededWarning) printed by a process. */
export const NODE_WARNING = 'Warning: ';
const COUNTED = [CONNECTED, NODE_WARNING];

function launch(args: readonly string[], env: Record<string, string>, label: string): Proc {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  delete childEnv.NODE_ENV;
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), ...args],
    {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let partial = '';
  const counts = new Map<string, number>();
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT / 2);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines)
      for (const [needle, n] of counts) if (line.includes(needle)) counts.set(needle, n + 1);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  child.on('error', (error) => collect(Buffer.from(`\n[${label} spawn error: ${String(error)}]\n`)));
  for (const needle of COUNTED) counts.set(needle, 0);
  return {
    child,
    output: () => output,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    count: (needle) => counts.get(needle) ?? 0,
  };
}

function killHard(proc: Proc | undefined): Promise<void> {
  if (proc === undefined || proc.exited()) return Promise.resolve();
  return new Promise((resolve) => {
    proc.child.once('exit', () => resolve());
    proc.child.kill('SIGKILL');
  });
}

export class Stack {
  readonly channel = `e2e-${randomBytes(5).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'wc-e2e-'));
  readonly sent: Sent[] = [];
  /** Every webhook about to be posted, by body hash (known before the receiver could relay it). */
  readonly posted = new Map<string, Sent>();
  /** Posts refused by the receiver (status + body), for diagnostics. */
  readonly refused: string[] = [];
  target!: RecordingTarget;
  url = '';
  receiver: Proc | undefined;
  connector: Proc | undefined;
  /** Every receiver / connector process started, so `dispose` kills them all. */
  readonly #procs: Proc[] = [];
  readonly #connectors: Proc[] = [];
  #connectorStarts = 0;
  #port = 0;

  private constructor(readonly options: StackOptions) {}

  /** Starts the target, the receiver and the connector (the last two concurrently) and waits for both. */
  static async start(options: StackOptions): Promise<Stack> {
    const stack = new Stack(options);
    try {
      stack.target = await startRecordingTarget();
      stack.#port = await freePort();
      stack.url = `http://127.0.0.1:${stack.#port}`;
      stack.#writeFiles();
      await Promise.all([stack.startReceiver(), stack.startConnector()]);
      return stack;
    } catch (error) {
      await stack.dispose();
      throw error;
    }
  }

  #writeFiles(): void {
    const moduleConfig = {
      channel: this.channel,
      channel_token: CHANNEL_TOKEN,
      ack_timeout_seconds: 10,
      retry_backoff: { initial: 1, max: 2 },
      heartbeat_interval_seconds: 5,
      ...this.options.channel,
    };
    const hook = (dataType: string) => ({
      data_type: dataType,
      module: 'webhook_connect',
      'module-config': moduleConfig,
      provider: { name: 'github', secret: GITHUB_SECRET },
    });
    writeFileSync(
      join(this.dir, 'webhooks.json'),
      JSON.stringify({ [JSON_HOOK]: hook('json'), [BLOB_HOOK]: hook('blob') }, null, 2),
    );
    writeFileSync(join(this.dir, 'connections.json'), '{}');
  }

  /** A connector config file delivering to `<target>/<targetPath>`. */
  #connectorConfig(targetPath: string): string {
    const file = join(this.dir, `connector-${++this.#connectorStarts}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          cloud_url: this.url,
          channel: this.channel,
          token: '{$E2E_CHANNEL_TOKEN}',
          protocol: this.options.transport,
          connector_id: `e2e-${this.options.transport}`,
          reconnect_delay: 0.1,
          max_reconnect_delay: 1,
          heartbeat_timeout: 20,
          connection_timeout: 5,
          max_concurrent_requests: 20,
          shutdown_timeout: 2,
          poll_timeout: 5,
          poll_max_messages: 50,
          log_level: 'INFO',
          default_target: {
            url: `${this.target.url}/${targetPath}`,
            timeout_seconds: 10,
            retry_max_attempts: 2,
            retry_delay_seconds: 0.1,
            ...this.options.target,
          },
          ...this.options.connector,
        },
        null,
        2,
      ),
    );
    return file;
  }

  /** Starts a receiver on the stack's port (the same port after a restart) and waits for `/health`. */
  async startReceiver(): Promise<void> {
    const proc = launch(
      ['serve'],
      {
        HOST: '127.0.0.1',
        PORT: String(this.#port),
        LOG_LEVEL: 'warn',
        WEBHOOK_CONNECT_BUFFER: this.options.buffer,
        WEBHOOK_CONNECT_SQLITE_PATH: join(this.dir, 'buffer.sqlite'),
        WEBHOOK_CONNECT_REDIS_URL: serviceUrls().redis,
        WEBHOOK_CONNECT_RABBITMQ_URL: serviceUrls().rabbitmq,
        WEBHOOK_CONNECT_ADMIN_TOKEN: ADMIN_TOKEN,
        WEBHOOKS_CONFIG_FILE: join(this.dir, 'webhooks.json'),
        CONNECTIONS_CONFIG_FILE: join(this.dir, 'connections.json'),
      },
      'receiver',
    );
    this.receiver = proc;
    this.#procs.push(proc);
    await waitUntil(
      async () => {
        if (proc.exited()) throw new Error(`receiver exited (${proc.child.exitCode}): ${proc.output()}`);
        try {
          const health = await httpCall('GET', `${this.url}/admin/webhook-connect/health`, {
            timeoutMs: 2000,
          });
          return health.status === 200 && JSON.parse(health.text).status === 'healthy';
        } catch {
          return false;
        }
      },
      () =>
        `the receiver on ${this.url} (${this.options.buffer}) to be healthy: ${proc.output().slice(-2000)}`,
      45_000,
    );
  }

  /**
   * Stops the receiver: SIGKILL, or SIGTERM (graceful shutdown) and wait up to 30 s for it to exit on its
   * own (failing — and then SIGKILLing it — when it does not).
   */
  async stopReceiver(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const proc = this.receiver;
    if (signal === 'SIGKILL' || proc === undefined || proc.exited()) return killHard(proc);
    const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
    proc.child.kill('SIGTERM');
    await waitUntil(
      () => proc.exited(),
      () => `the receiver to exit after SIGTERM: ${proc.output().slice(-2000)}`,
      30_000,
    );
    await exited;
  }

  /**
   * Starts a connector process delivering to `<target>/<targetPath>` (so the target can tell a restarted
   * connector's deliveries apart) and waits until it says it is connected to the relay.
   */
  async startConnector(targetPath = 'github'): Promise<void> {
    const file = this.#connectorConfig(targetPath);
    const proc = launch(['connector', '--config', file], { E2E_CHANNEL_TOKEN: CHANNEL_TOKEN }, 'connector');
    this.connector = proc;
    this.#procs.push(proc);
    this.#connectors.push(proc);
    await waitUntil(
      () => {
        if (proc.exited()) throw new Error(`connector exited (${proc.child.exitCode}): ${proc.output()}`);
        return this.connectedCount() >= 1;
      },
      () => `the connector (${this.options.transport}) to connect: ${proc.output().slice(-2000)}`,
      45_000,
    );
  }

  /** How often the current connector process logged "connected to the relay". */
  connectedCount(): number {
    return this.connector?.count(CONNECTED) ?? 0;
  }

  /** Lines containing `text` printed by every connector process this stack started. */
  connectorLines(text: typeof NODE_WARNING): number {
    return this.#connectors.reduce((sum, proc) => sum + proc.count(text), 0);
  }

  async killConnector(): Promise<void> {
    await killHard(this.connector);
  }

  /** Signs and posts webhooks `from .. from+count-1` (at most `parallel` at a time); each must get 200. */
  async post(from: number, count: number, parallel = 20): Promise<void> {
    const queue = Array.from({ length: count }, (_, i) => makeWebhook(from + i));
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        this.posted.set(next.hash, next);
        const answer = await httpCall('POST', `${this.url}/webhook/${next.webhookId}`, {
          body: next.body,
          headers: {
            'content-type': next.contentType,
            'x-hub-signature-256': githubSignature(next.body),
            'x-github-event': 'pull_request',
            'x-github-delivery': `delivery-${next.n}`,
          },
        });
        if (answer.status !== 200) {
          this.refused.push(`#${next.n}: ${answer.status} ${answer.text}`);
          throw new Error(`webhook #${next.n} was refused: ${answer.status} ${answer.text}`);
        }
        this.sent.push(next);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  /** Admin API GET (parsed JSON); throws on a non-200. */
  async admin(path: string): Promise<unknown> {
    const answer = await httpCall(
      'GET',
      `${this.url}/admin/webhook-connect/channels/${this.channel}${path}`,
      {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      },
    );
    if (answer.status !== 200) throw new Error(`admin ${path}: ${answer.status} ${answer.text}`);
    return JSON.parse(answer.text) as unknown;
  }

  /** Target requests answered 2xx, grouped by body hash. */
  succeededByHash(): Map<string, RecordedRequest[]> {
    const byHash = new Map<string, RecordedRequest[]>();
    for (const request of this.target.requests) {
      if (request.status === undefined || request.status < 200 || request.status > 299) continue;
      const hash = sha256(request.body);
      byHash.set(hash, [...(byHash.get(hash) ?? []), request]);
    }
    return byHash;
  }

  /** How many sent webhooks reached the target with a 2xx. */
  deliveredCount(): number {
    const byHash = this.succeededByHash();
    return this.sent.filter((sent) => byHash.has(sent.hash)).length;
  }

  /** A one-line summary for failure messages. */
  describe(): string {
    const statuses = new Map<string, number>();
    for (const request of this.target.requests) {
      const key = String(request.status ?? 'pending');
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    return `${this.options.transport} x ${this.options.buffer}: sent ${this.sent.length}, delivered ${this.deliveredCount()}, target requests ${JSON.stringify(Object.fromEntries(statuses))}\n--- connector tail ---\n${(this.connector?.output() ?? '').slice(-3000)}\n--- receiver tail ---\n${(this.receiver?.output() ?? '').slice(-3000)}`;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.#procs.map((proc) => killHard(proc)));
    await this.target?.close().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
    await deleteChannelData(this.options.buffer, this.channel, [JSON_HOOK, BLOB_HOOK]).catch(() => {});
  }
}

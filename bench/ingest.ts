/**
 * ingest: webhooks/s and latency accepted at `POST /webhook/{id}` for a `webhook_connect` webhook on each
 * buffer (sqlite temp file, redis, rabbitmq, memory), for a synchronous no-op module (bench/noop-receiver.ts:
 * the receiver without any buffer or output), and for a bare node:http server — one process each,
 * measured in interleaved rounds, same body, same autocannon settings. Ratios are to the bare server.
 */
import {
  load,
  loadInterleaved,
  spawnReceiver,
  spawnServer,
  type ChildServer,
  type LoadOptions,
} from './lib.js';
import { availableBuffers, benchChannel, bufferEnv, deleteChannel, type BufferKind } from './services.js';

export const INGEST_BODY = JSON.stringify({
  id: 'evt_bench',
  type: 'payment_intent.succeeded',
  data: { amount: 4200, currency: 'eur' },
});
const CONNECTIONS = 50;
const HOOK = 'bench_ingest';

/** A `webhook_connect` webhook on `channel` whose queue never fills during a benchmark. */
export function relayWebhook(channel: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    data_type: 'json',
    module: 'webhook_connect',
    'module-config': { channel, channel_token: 'bench-token', max_queue_size: 5_000_000, ...extra },
  };
}

export async function runIngestBench(options: { durationSeconds: number }): Promise<Record<string, unknown>> {
  const { kinds, skipped } = await availableBuffers();
  const json = { 'content-type': 'application/json' };
  const servers: ChildServer[] = [];
  const channels: [BufferKind, string][] = [];
  const variants: Record<string, Omit<LoadOptions, 'durationSeconds'>> = {};
  try {
    const bare = await spawnServer('bench/baseline-server.ts', []);
    servers.push(bare);
    variants.bare_node_http = {
      url: `${bare.baseUrl}/`,
      body: INGEST_BODY,
      headers: json,
      connections: CONNECTIONS,
    };
    const noop = await spawnReceiver(
      { [HOOK]: { data_type: 'json', module: 'bench_noop' } },
      {},
      { script: 'bench/noop-receiver.ts', args: [] },
    );
    servers.push(noop);
    variants.noop_module = {
      url: `${noop.baseUrl}/webhook/${HOOK}`,
      body: INGEST_BODY,
      headers: json,
      connections: CONNECTIONS,
    };
    for (const kind of kinds) {
      const channel = benchChannel(`ingest-${kind}`);
      channels.push([kind, channel]);
      const receiver = await spawnReceiver({ [HOOK]: relayWebhook(channel) }, bufferEnv(kind));
      servers.push(receiver);
      variants[kind] = {
        url: `${receiver.baseUrl}/webhook/${HOOK}`,
        body: INGEST_BODY,
        headers: json,
        connections: CONNECTIONS,
      };
    }
    // Warm-up (JIT, connection pools, sqlite page cache): one short unrecorded pass per variant.
    for (const variant of Object.values(variants)) await load({ ...variant, durationSeconds: 1 });
    const results = await loadInterleaved(variants, {
      rounds: 3,
      secondsPerRound: options.durationSeconds / 3,
    });
    const base = results.bare_node_http?.requestsPerSecond ?? 1;
    const ratios: Record<string, number> = {};
    for (const [name, result] of Object.entries(results)) {
      if (name !== 'bare_node_http') ratios[`${name}_vs_bare`] = round(result.requestsPerSecond / base);
    }
    const targets = {
      sqlite_ge_0_30_of_bare: ratios.sqlite_vs_bare === undefined ? 'skipped' : ratios.sqlite_vs_bare >= 0.3,
      redis_ge_0_25_of_bare: ratios.redis_vs_bare === undefined ? 'skipped' : ratios.redis_vs_bare >= 0.25,
    };
    return {
      settings: { connections: CONNECTIONS, bodyBytes: Buffer.byteLength(INGEST_BODY), rounds: 3 },
      ...results,
      ratios,
      targets,
      skipped,
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    for (const [kind, channel] of channels) await deleteChannel(kind, channel, [HOOK]).catch(() => {});
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

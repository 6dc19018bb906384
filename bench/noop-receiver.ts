/**
 * `webhook-connect serve` (src/cli/serve.ts: the same settings, flags, runtime, relay, task pool, Fastify
 * app and shutdown) with one more module in its registry: `bench_noop`, synchronous (the receiver awaits
 * it, like `webhook_connect`) and doing nothing. The product's module set is unchanged; this file exists
 * only so the ingest benchmark can measure the receiver's own cost per request with no buffer and no
 * output.
 *
 * Usage: node --import tsx bench/noop-receiver.ts --host 127.0.0.1 --port 0 --webhooks F --connections F
 * (the benchmarks run its tsc build)
 */
import { z } from 'zod';
import { runServe } from '../src/cli/serve.js';
import type { ModuleDescriptor } from '../src/modules/types.js';

/** Accepts any `module-config`, delivers nowhere. */
export const noopModule: ModuleDescriptor<Record<string, unknown>> = {
  type: 'bench_noop',
  schema: z.record(z.string(), z.unknown()),
  secretFields: [],
  synchronous: true,
  create: () => ({ deliver: async () => {}, close: async () => {} }),
};

process.exit(
  await runServe(process.argv.slice(2), process.env, {
    extraModules: [noopModule as ModuleDescriptor<never>],
  }),
);

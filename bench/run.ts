/**
 * `npm run bench [-- name ...] [-- --duration N]`: runs the named benchmarks (all by default), prints a
 * table and writes bench/results/<name>.json.
 */
import { runAuthBench } from './auth.js';
import { runConnectionsBench } from './connections.js';
import { runDrainBench } from './drain.js';
import { runE2eBench } from './e2e.js';
import { runIngestBench } from './ingest.js';
import { writeResult } from './lib.js';
import { runReceiverCostBench } from './receiver-cost.js';

const BENCHMARKS: Record<string, (options: { durationSeconds: number }) => Promise<Record<string, unknown>>> =
  {
    ingest: runIngestBench,
    drain: runDrainBench,
    e2e: runE2eBench,
    connections: runConnectionsBench,
    auth: runAuthBench,
    'receiver-cost': () => runReceiverCostBench(),
  };

const args = process.argv.slice(2);
const durationIndex = args.indexOf('--duration');
const durationSeconds = durationIndex === -1 ? 10 : Number(args[durationIndex + 1]);
const names = args.filter(
  (arg, index) => !arg.startsWith('--') && (durationIndex === -1 || index !== durationIndex + 1),
);
// receiver-cost runs only when named: it needs valgrind and takes minutes.
const OPT_IN = new Set(['receiver-cost']);
const selected = names.length === 0 ? Object.keys(BENCHMARKS).filter((name) => !OPT_IN.has(name)) : names;

for (const name of selected) {
  const bench = BENCHMARKS[name];
  if (bench === undefined) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  console.log(`running ${name} (${durationSeconds} s per measurement)...`);
  const results = await bench({ durationSeconds });
  const rows = Object.entries(results)
    .filter(([, value]) => typeof value === 'object' && value !== null && 'requestsPerSecond' in value)
    .map(([variant, value]) => {
      const r = value as {
        requestsPerSecond: number;
        latencyP50Ms: number;
        latencyP90Ms?: number;
        latencyP99Ms: number;
        latencyMaxMs?: number;
        non2xx: number;
      };
      return {
        variant,
        'req/s': Math.round(r.requestsPerSecond),
        'p50 ms': r.latencyP50Ms,
        'p90 ms': r.latencyP90Ms,
        'p99 ms': r.latencyP99Ms,
        'max ms': r.latencyMaxMs,
        non2xx: r.non2xx,
      };
    });
  if (rows.length > 0) console.table(rows);
  for (const key of ['ratios', 'targets', 'skipped', 'no_connectors']) {
    if (key in results) console.log(`${key}:`, results[key]);
  }
  console.log(`wrote ${writeResult({ name, results })}`);
}

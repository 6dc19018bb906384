/**
 * auth: requests/s through `hmac` and through the Stripe preset next to the same receiver with no
 * authentication, and next to a bare node:http server — all in one run, same body, same load.
 */
import { createHmac } from 'node:crypto';
import { loadInterleaved, spawnReceiver, spawnServer, type LoadResult } from './lib.js';

const HMAC_SECRET = 'bench-hmac-secret';
const STRIPE_SECRET = 'whsec_bench_stripe_secret';

export async function runAuthBench(options: { durationSeconds: number }): Promise<Record<string, unknown>> {
  const body = JSON.stringify({
    id: 'evt_bench',
    type: 'payment_intent.succeeded',
    data: { amount: 4200, currency: 'eur' },
  });
  const json = { 'content-type': 'application/json' };
  const hmacHeader = `sha256=${createHmac('sha256', HMAC_SECRET).update(body).digest('hex')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const stripeSignature = createHmac('sha256', STRIPE_SECRET).update(`${timestamp}.${body}`).digest('hex');

  // `log` without pretty printing, stdout discarded: the same cheap module behind every variant.
  const module = {
    module: 'log',
    'module-config': { pretty_print: false, redact_sensitive: false },
    credential_cleanup: { enabled: false },
  };
  const baseline = await spawnServer('bench/baseline-server.ts', []);
  const receiver = await spawnReceiver({
    no_auth: module,
    with_hmac: { ...module, hmac: { secret: HMAC_SECRET, header: 'X-Hub-Signature-256' } },
    with_stripe: { ...module, provider: { name: 'stripe', secret: STRIPE_SECRET } },
  });
  let results: Record<string, LoadResult>;
  try {
    const at = (id: string) => `${receiver.baseUrl}/webhook/${id}`;
    results = await loadInterleaved(
      {
        bare_node_http: { url: `${baseline.baseUrl}/`, body, headers: json },
        no_auth: { url: at('no_auth'), body, headers: json },
        hmac: { url: at('with_hmac'), body, headers: { ...json, 'x-hub-signature-256': hmacHeader } },
        stripe_preset: {
          url: at('with_stripe'),
          body,
          headers: { ...json, 'stripe-signature': `t=${timestamp},v1=${stripeSignature}` },
        },
      },
      { rounds: 3, secondsPerRound: options.durationSeconds / 3 },
    );
  } finally {
    await Promise.all([baseline.stop(), receiver.stop()]);
  }
  const base = results.bare_node_http?.requestsPerSecond ?? 1;
  const noAuth = results.no_auth?.requestsPerSecond ?? 1;
  return {
    ...results,
    ratios: {
      no_auth_vs_bare: round((results.no_auth?.requestsPerSecond ?? 0) / base),
      hmac_vs_no_auth: round((results.hmac?.requestsPerSecond ?? 0) / noAuth),
      stripe_vs_no_auth: round((results.stripe_preset?.requestsPerSecond ?? 0) / noAuth),
    },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

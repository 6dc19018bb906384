/**
 * Fault injection (issue 7): Redis / RabbitMQ unreachable mid-stream, with real receiver and connector
 * processes. The machine's services are shared with other test files (and Redis keeps nothing on disk), so
 * they are not stopped: the receiver reaches its buffer through a cuttable TCP proxy
 * (`test/harness/cuttable-proxy.ts`) that the test cuts and restores. Posts made during the outage must
 * answer 503 (never 200); afterwards posting resumes by itself and every accepted id arrives (ledger,
 * lost = 0, duplicates printed).
 *
 * The e2e stack reads the buffer URLs from the environment when it starts a receiver, so the proxies are
 * opened and `WEBHOOK_CONNECT_REDIS_URL` / `WEBHOOK_CONNECT_RABBITMQ_URL` pointed at them first. This file
 * runs in its own process, so nothing else sees them.
 */
import { after, describe, test } from 'node:test';
import { CuttableProxy, type ServiceAddress } from '../harness/cuttable-proxy.js';
import { serviceUrls } from '../harness/services.js';
import { bufferOutageMidStream, bufferUsable, withStack } from './scenarios.js';

const urls = serviceUrls();
const upstream = { redis: new URL(urls.redis), rabbitmq: new URL(urls.rabbitmq) };
const addressOf = (url: URL, defaultPort: number): ServiceAddress => ({
  host: url.hostname,
  port: Number(url.port || defaultPort),
});
const proxies = {
  redis: new CuttableProxy(addressOf(upstream.redis, 6379)),
  rabbitmq: new CuttableProxy(addressOf(upstream.rabbitmq, 5672)),
};
await Promise.all(Object.values(proxies).map((proxy) => proxy.open()));
for (const [name, variable] of [
  ['redis', 'WEBHOOK_CONNECT_REDIS_URL'],
  ['rabbitmq', 'WEBHOOK_CONNECT_RABBITMQ_URL'],
] as const) {
  const viaProxy = new URL(upstream[name]);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxies[name].port);
  process.env[variable] = viaProxy.toString();
}
after(() => Promise.all(Object.values(proxies).map((proxy) => proxy.cut())));

for (const buffer of ['redis', 'rabbitmq'] as const) {
  describe(`buffer outage (${buffer}, real processes, cuttable proxy)`, () => {
    test(`${buffer} unreachable mid-stream and back: posts during the outage get 503, never 200; every accepted webhook delivered`, async (t) => {
      if (!(await bufferUsable(t, buffer))) return;
      await withStack({ buffer }, (stack) =>
        bufferOutageMidStream(stack, proxies[buffer], `buffer-outage-${buffer}`, {
          before: 100,
          refusedDuring: 20,
          after: 100,
          minOutageMs: 3000,
        }),
      );
    });
  });
}

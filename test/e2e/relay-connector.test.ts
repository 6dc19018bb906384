/**
 * End to end (issue 5 "Done when"): a real receiver process (`serve`, `webhook_connect` module, buffer
 * sqlite / redis / rabbitmq), a real connector process (`connector --config FILE`) and the recording
 * target, for every transport × buffer, plus the failure scenarios: a target answering 503 for a while,
 * a target answering 400 (dead letter with the reason in the admin API), the connector SIGKILLed
 * mid-stream and restarted, and the receiver restarted under a running connector.
 *
 * Sizes: N = 1,000 webhooks for every transport × buffer combination, as the issue asks; the failure
 * scenarios use 40–200 messages. Each combination boots two tsx processes (~3 s each on a loaded 2-core
 * machine); three combinations run at a time.
 *
 * Each webhook is signed by the sender with a GitHub-style `X-Hub-Signature-256` (node:crypto); the
 * receiver checks it (`provider: github`) and the target checks it again over the bytes it received,
 * answering 401 on a mismatch. Bodies cycle through JSON with odd whitespace, binary bytes on a
 * `data_type: blob` webhook, and compact JSON with a charset.
 *
 * A buffer whose service is unreachable skips its tests with one loud line, unless
 * `WEBHOOK_CONNECT_REQUIRE_SERVICES=1` (then they fail).
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import type { RecordedRequest, TargetMode } from '../harness/recording-target.js';
import {
  BLOB_HOOK,
  BUFFERS,
  CHANNEL_TOKEN,
  githubSignatureVerifies,
  httpCall,
  JSON_HOOK,
  NODE_WARNING,
  serviceUnavailable,
  sha256,
  Stack,
  TRANSPORTS,
  waitUntil,
  type BufferKind,
  type StackOptions,
  type Transport,
} from './stack.js';

/** Generous bounds for a loaded machine; every wait polls for its condition. */
const DELIVERY_TIMEOUT_MS = 90_000;

/** Runs `body` with a started stack (or skips when the buffer's service is unreachable); always disposes. */
async function withStack(t: TestContext, options: StackOptions, body: (stack: Stack) => Promise<void>) {
  const reason = await serviceUnavailable(options.buffer);
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  const stack = await Stack.start(options);
  try {
    stack.target.setHandler(verifySignature);
    await body(stack);
    // 20 concurrent deliveries once made node warn about an AbortSignal listener leak (fixed).
    assert.equal(stack.connectorLines(NODE_WARNING), 0, 'the connector printed no node warning');
  } catch (error) {
    if (error instanceof Error) error.message += `\n${stack.describe()}`;
    throw error;
  } finally {
    await stack.dispose();
  }
}

/** The target's own GitHub check: a body whose signature does not verify is refused with 401. */
function verifySignature(request: RecordedRequest): TargetMode | undefined {
  return githubSignatureVerifies(request.body, request.headers['x-hub-signature-256'])
    ? undefined
    : { kind: 'fail', status: 401, body: 'signature mismatch' };
}

interface Stats {
  messages_queued: number;
  messages_in_flight: number;
  messages_delivered: number;
  messages_dead_lettered: number;
}

/** Waits until the relay holds nothing for the channel any more (every ack reached the buffer). */
async function waitDrained(stack: Stack, deadLetters = 0): Promise<void> {
  let last: Stats | undefined;
  await waitUntil(
    async () => {
      last = (await stack.admin('/stats')) as Stats;
      return (
        last.messages_queued === 0 &&
        last.messages_in_flight === 0 &&
        last.messages_dead_lettered === deadLetters
      );
    },
    () => `the channel to drain (stats ${JSON.stringify(last)})`,
    DELIVERY_TIMEOUT_MS,
  );
}

async function waitAllDelivered(stack: Stack): Promise<void> {
  await waitUntil(
    () => stack.deliveredCount() === stack.sent.length,
    () => `all ${stack.sent.length} webhooks at the target (${stack.deliveredCount()} so far)`,
    DELIVERY_TIMEOUT_MS,
  );
}

/**
 * Checks every delivery the target answered 2xx: body bytes are one of the sent bodies, byte for byte;
 * Content-Type, webhook id and the provider's headers are the originals; the signature verifies; the
 * relay's headers are present and `Idempotency-Key` equals the message id. Every sent webhook arrived.
 * Returns the successful copies per sent body (hash → requests).
 */
function checkDeliveries(stack: Stack): Map<string, RecordedRequest[]> {
  const sentByHash = new Map(stack.sent.map((sent) => [sent.hash, sent]));
  assert.equal(sentByHash.size, stack.sent.length, 'every sent body is unique');
  const byHash = stack.succeededByHash();
  for (const [hash, copies] of byHash) {
    const sent = sentByHash.get(hash);
    assert.ok(sent !== undefined, `the target received a body that was never sent (sha256 ${hash})`);
    for (const copy of copies) {
      assert.ok(copy.body.equals(sent.body), `#${sent.n}: body bytes identical`);
      assert.equal(copy.method, 'POST');
      assert.equal(copy.headers['content-type'], sent.contentType, `#${sent.n}: original Content-Type`);
      assert.ok(
        githubSignatureVerifies(copy.body, copy.headers['x-hub-signature-256']),
        `#${sent.n}: the sender's GitHub signature verifies at the target`,
      );
      assert.equal(copy.headers['x-github-event'], 'pull_request', `#${sent.n}: provider headers kept`);
      assert.equal(copy.headers['x-github-delivery'], `delivery-${sent.n}`);
      assert.equal(copy.headers['x-webhook-id'], sent.webhookId, `#${sent.n}: X-Webhook-Id`);
      const messageId = copy.headers['x-webhook-message-id'];
      assert.ok(typeof messageId === 'string' && messageId !== '', `#${sent.n}: X-Webhook-Message-Id`);
      assert.equal(
        copy.headers['idempotency-key'],
        messageId,
        `#${sent.n}: Idempotency-Key is the message id`,
      );
      assert.match(String(copy.headers['x-webhook-delivery-count']), /^[1-9]\d*$/);
    }
  }
  const missing = stack.sent.filter((sent) => !byHash.has(sent.hash)).map((sent) => sent.n);
  assert.deepEqual(missing, [], 'every sent webhook was delivered');
  const ids = new Set([...byHash.values()].map((copies) => copies[0]!.headers['x-webhook-message-id']));
  assert.equal(ids.size, stack.sent.length, 'one message id per webhook');
  return byHash;
}

function duplicates(byHash: Map<string, RecordedRequest[]>): RecordedRequest[][] {
  return [...byHash.values()].filter((copies) => copies.length > 1);
}

// ---------------------------------------------------------------------------------------------------------
// The matrix

const results: string[] = [];

describe(
  'e2e: every transport × buffer delivers every webhook byte-exact and signed',
  { concurrency: 3 },
  () => {
    for (const buffer of BUFFERS) {
      for (const transport of TRANSPORTS) {
        const count = 1000;
        test(`${transport} × ${buffer}: ${count} webhooks`, { timeout: 240_000 }, async (t) => {
          await withStack(t, { buffer, transport }, async (stack) => {
            const started = Date.now();
            await stack.post(0, count);
            await waitAllDelivered(stack);
            await waitDrained(stack);
            const byHash = checkDeliveries(stack);
            const dups = duplicates(byHash);
            assert.equal(dups.length, 0, 'no webhook reached the target twice');
            assert.equal(
              stack.target.requests.length,
              count,
              'one target request per webhook (no failures, no retries)',
            );
            assert.ok(
              stack.sent.some((sent) => sent.webhookId === BLOB_HOOK) &&
                stack.sent.some((sent) => sent.webhookId === JSON_HOOK),
            );
            results.push(
              `${transport} × ${buffer}: ${stack.deliveredCount()}/${count} delivered, ${dups.length} duplicates, ${Date.now() - started} ms`,
            );
          });
        });
      }
    }
  },
);

// ---------------------------------------------------------------------------------------------------------
// Failure scenarios (each on a different transport/buffer pair, so together they touch all of them)

describe('e2e: failures', { concurrency: 3 }, () => {
  test(
    'target answers 503 for a while → every message arrives once it recovers (sse × redis)',
    { timeout: 180_000 },
    async (t) => {
      await withStack(t, { buffer: 'redis', transport: 'sse' }, async (stack) => {
        let outageEnds: number | undefined;
        let refused = 0;
        stack.target.setHandler((request) => {
          outageEnds ??= Date.now() + 3000;
          if (Date.now() < outageEnds) {
            refused += 1;
            return { kind: 'fail', status: 503, body: 'down for maintenance' };
          }
          return verifySignature(request);
        });
        await stack.post(0, 60);
        await waitAllDelivered(stack);
        await waitDrained(stack);
        const byHash = checkDeliveries(stack);
        assert.ok(refused > 0, 'the target refused deliveries with 503 first');
        assert.equal(duplicates(byHash).length, 0, 'each message reached the recovered target once');
        const redelivered = [...byHash.values()].filter(
          (copies) => Number(copies[0]!.headers['x-webhook-delivery-count']) >= 2,
        );
        assert.ok(redelivered.length > 0, 'messages nacked during the outage came back from the relay');
        results.push(
          `503 outage (sse × redis): 60/60 delivered after ${refused} 503s, ${redelivered.length} redelivered by the relay`,
        );
      });
    },
  );

  test(
    'target answers 400 → dead letter with the reason in the admin API (long_poll × rabbitmq)',
    { timeout: 180_000 },
    async (t) => {
      await withStack(t, { buffer: 'rabbitmq', transport: 'long_poll' }, async (stack) => {
        const rejected = (n: number) => n % 10 === 4;
        const nOf = (body: Buffer) => stack.posted.get(sha256(body))?.n;
        stack.target.setHandler((request) => {
          const n = nOf(request.body);
          if (n !== undefined && rejected(n))
            return { kind: 'fail', status: 400, body: `e2e target rejects #${n}: bad schema` };
          return verifySignature(request);
        });
        await stack.post(0, 40);
        const toReject = stack.sent.filter((sent) => rejected(sent.n));
        const toAccept = stack.sent.filter((sent) => !rejected(sent.n));
        type DeadLetter = { message_id: string; webhook_id: string; reason: string; body: string };
        let dead: DeadLetter[] = [];
        await waitUntil(
          async () => {
            dead = ((await stack.admin('/dead-letters?limit=100')) as { messages: DeadLetter[] }).messages;
            const delivered = stack.succeededByHash();
            return dead.length >= toReject.length && toAccept.every((sent) => delivered.has(sent.hash));
          },
          () => `${toReject.length} dead letters and ${toAccept.length} deliveries (dead ${dead.length})`,
          DELIVERY_TIMEOUT_MS,
        );
        assert.equal(dead.length, toReject.length, 'exactly the rejected messages are dead letters');
        for (const sent of toReject) {
          const letter = dead.find((entry) => Buffer.from(entry.body, 'base64').equals(sent.body));
          assert.ok(letter !== undefined, `#${sent.n} is a dead letter with its exact body`);
          assert.equal(letter.webhook_id, sent.webhookId);
          assert.match(letter.reason, /HTTP 400/, `#${sent.n}: the reason names the status`);
          assert.ok(
            letter.reason.includes(`e2e target rejects #${sent.n}: bad schema`),
            `#${sent.n}: reason ${letter.reason}`,
          );
          const attempts = stack.target.requests.filter((request) => request.body.equals(sent.body));
          assert.equal(attempts.length, 1, `#${sent.n}: a permanent failure is not retried`);
          assert.equal(attempts[0]!.headers['x-webhook-message-id'], letter.message_id);
        }
        await waitDrained(stack, toReject.length);
        results.push(
          `400 (long_poll × rabbitmq): ${toAccept.length} delivered, ${dead.length} dead letters with reason`,
        );
      });
    },
  );

  const killCases: [Transport, BufferKind][] = [
    ['websocket', 'rabbitmq'],
    ['sse', 'sqlite'],
    ['long_poll', 'redis'],
  ];
  for (const [transport, buffer] of killCases) {
    test(
      `connector SIGKILLed mid-stream and restarted → all delivered, duplicates only where an ack was lost (${transport} × ${buffer})`,
      { timeout: 180_000 },
      async (t) => {
        await withStack(t, { buffer, transport, channel: { ack_timeout_seconds: 5 } }, async (stack) => {
          const COUNT = 200;
          stack.target.setDelay(100); // keeps deliveries in progress when the kill comes
          const posting = stack.post(0, COUNT);
          await waitUntil(
            () => stack.target.requests.length >= 50,
            'the first connector to be mid-stream',
            DELIVERY_TIMEOUT_MS,
          );
          await stack.killConnector();
          const firstRun = stack.target.requests.length;
          await posting;
          assert.ok(firstRun < COUNT, 'killed before it finished');
          await stack.startConnector('github-restarted');
          await waitAllDelivered(stack);
          await waitDrained(stack);
          const byHash = checkDeliveries(stack);
          const dups = duplicates(byHash);
          for (const copies of dups) {
            const paths = copies.map((copy) => copy.path);
            assert.deepEqual(
              paths.sort(),
              ['/github', '/github-restarted'],
              'a duplicate is one delivery by the killed connector (ack lost) and one by its successor',
            );
            const [before, after] =
              copies[0]!.path === '/github' ? [copies[0]!, copies[1]!] : [copies[1]!, copies[0]!];
            assert.equal(
              after.headers['idempotency-key'],
              before.headers['idempotency-key'],
              'same Idempotency-Key',
            );
            assert.equal(after.headers['x-webhook-message-id'], before.headers['x-webhook-message-id']);
            assert.ok(
              Number(after.headers['x-webhook-delivery-count']) >
                Number(before.headers['x-webhook-delivery-count']),
              'the redelivery has a higher delivery count',
            );
          }
          const restarted = stack.target.requests.filter(
            (request) => request.path === '/github-restarted',
          ).length;
          assert.ok(restarted > 0, 'the restarted connector delivered the rest');
          results.push(
            `connector SIGKILL (${transport} × ${buffer}): ${stack.deliveredCount()}/${COUNT} delivered, ${firstRun} before the kill, ${dups.length} duplicates (same Idempotency-Key)`,
          );
        });
      },
    );
  }

  // SIGKILL (leases stay in the buffer until they expire, or the broker returns them) and a graceful
  // SIGTERM (the relay closes sessions and hands leases back without counting an attempt).
  const restartCases: [Transport, BufferKind, 'SIGKILL' | 'SIGTERM'][] = [
    ['websocket', 'sqlite', 'SIGKILL'],
    ['sse', 'rabbitmq', 'SIGTERM'],
    ['long_poll', 'redis', 'SIGKILL'],
  ];
  for (const [transport, buffer, signal] of restartCases) {
    test(
      `receiver restarted (${signal}) under a running connector → it reconnects by itself and delivery resumes (${transport} × ${buffer})`,
      { timeout: 180_000 },
      async (t) => {
        await withStack(t, { buffer, transport, channel: { ack_timeout_seconds: 5 } }, async (stack) => {
          stack.target.setDelay(150); // keeps deliveries (and their acks) in progress when the kill comes
          await stack.post(0, 100);
          await waitUntil(
            () => stack.target.requests.length >= 20,
            'deliveries to start',
            DELIVERY_TIMEOUT_MS,
          );
          const connector = stack.connector!;
          const beforeKill = stack.target.requests.length;
          await stack.stopReceiver(signal);
          await stack.startReceiver();
          await stack.post(100, 100);
          await waitAllDelivered(stack);
          await waitDrained(stack);
          assert.ok(
            !connector.exited() && stack.connector === connector,
            'the same connector process kept running',
          );
          assert.ok(
            stack.connectedCount() >= 2,
            `the connector reconnected by itself (${stack.connectedCount()} connections)`,
          );
          const byHash = checkDeliveries(stack);
          // Acks lost with the killed receiver come back as redeliveries to the same connector process,
          // whose dedup window acks them without calling the target again.
          assert.equal(duplicates(byHash).length, 0, 'no duplicates at the target (connector dedup window)');
          results.push(
            `receiver restart, ${signal} (${transport} × ${buffer}): 200/200 delivered, ${beforeKill} at the target before the kill, ${stack.connectedCount()} connections, 0 duplicates`,
          );
        });
      },
    );
  }

  // Found by these tests: a draining receiver refused new sessions as a full channel (fixed in src/relay).
  test(
    'a draining receiver (SIGTERM) refuses new connector sessions as shutting down, not as "max connections reached" (rabbitmq)',
    { timeout: 120_000 },
    async (t) => {
      await withStack(t, { buffer: 'rabbitmq', transport: 'sse' }, async (stack) => {
        // Leases held by the connector make the relay's drain (closeSessions: every lease handed back
        // to the broker) take long enough for new stream requests to arrive during it.
        stack.target.setMode({ kind: 'stall' });
        await stack.post(0, 100);
        await waitUntil(
          () => stack.target.active() >= 20,
          'the connector to hold leases',
          DELIVERY_TIMEOUT_MS,
        );
        const receiver = stack.receiver!;
        receiver.child.kill('SIGTERM');
        // Open streams of each transport ourselves until the process is gone; every answer is kept.
        const answers: string[] = [];
        const headers = { authorization: `Bearer ${CHANNEL_TOKEN}` };
        const stream = `${stack.url}/connect/stream/${stack.channel}`;
        for (let round = 0; !receiver.exited(); round++) {
          try {
            if (round % 3 === 2) {
              const close = await new Promise<string>((resolve, reject) => {
                const ws = new WebSocket(stream.replace(/^http/, 'ws'), { headers });
                const timer = setTimeout(() => ws.terminate(), 1000);
                ws.once('error', reject);
                ws.once('close', (code, reason) => {
                  clearTimeout(timer);
                  resolve(`ws ${code} ${reason.toString()}`);
                });
              });
              if (!close.startsWith('ws 1006')) answers.push(close); // 1006: cut by our timeout or the exit
            } else {
              const path = round % 3 === 0 ? '/sse' : '/poll?timeout=1';
              const answer = await httpCall('GET', `${stream}${path}`, { headers, timeoutMs: 1500 });
              if (answer.status !== 204)
                answers.push(`${path} ${answer.status} ${answer.text.slice(0, 200)}`);
            }
          } catch {
            // refused, reset, or a live stream cut by our timeout: not a drain answer
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // A request that reached the process before it handled SIGTERM is served normally; from the first
        // "shutting down" answer on, every answer must be one.
        const drainAnswer =
          /^(\/sse 503 .*WC_SHUTTING_DOWN|\/poll\?timeout=1 503 .*WC_SHUTTING_DOWN|ws 1001 Server shutting down)/;
        for (const answer of answers) {
          assert.doesNotMatch(
            answer,
            /max_connections|MAX_CONNECTIONS|4003/,
            'a draining receiver is not "full"',
          );
        }
        const first = answers.findIndex((answer) => drainAnswer.test(answer));
        assert.ok(
          first !== -1,
          `the receiver answered a stream request as shutting down (got ${answers.join(' | ')})`,
        );
        for (const answer of answers.slice(first)) {
          assert.match(answer, drainAnswer, `refused as shutting down (got ${answer})`);
        }
        results.push(
          `draining receiver (sse × rabbitmq): ${answers.length} stream requests during the drain, all refused as shutting down`,
        );
      });
    },
  );
});

process.on('exit', () => {
  if (results.length > 0) console.log(`e2e results:\n  ${results.join('\n  ')}`);
});

/**
 * Fault scenarios shared by the buffers: each takes a started stack (`test/e2e/stack.ts`: real receiver
 * and connector processes, WebSocket) and asserts with the ledger (`ledger.ts`) that every accepted id
 * arrived (lost = 0), printing duplicates. `faults.test.ts` runs them on sqlite, `distributed.test.ts` on
 * Redis and RabbitMQ, `buffer-outage.test.ts` runs the outage on Redis and RabbitMQ behind a cuttable proxy.
 *
 * Sizes are trimmed for CI on a loaded 2-core machine; every wait polls with a 60 s deadline.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { CuttableProxy } from '../harness/cuttable-proxy.js';
import { serviceUnavailable, Stack, waitUntil, type BufferKind, type StackOptions } from '../e2e/stack.js';
import { Ledger } from './ledger.js';

export const DEADLINE_MS = 60_000;

type Proc = NonNullable<Stack['connector']>;

/** Starts a stack (WebSocket transport) on `buffer`, runs `body`, adds the stack's state to a failure. */
export async function withStack(
  options: Partial<StackOptions> & { buffer: BufferKind },
  body: (stack: Stack) => Promise<void>,
): Promise<void> {
  const stack = await Stack.start({ transport: 'websocket', ...options });
  try {
    await body(stack);
  } catch (error) {
    if (error instanceof Error) error.message += `\n${stack.describe()}`;
    throw error;
  } finally {
    await stack.dispose();
  }
}

/**
 * True when the buffer's service can be used. Otherwise the test is skipped with one loud line, or fails
 * when WEBHOOK_CONNECT_REQUIRE_SERVICES=1 (`serviceUnavailable` throws then).
 */
export async function bufferUsable(t: TestContext, buffer: BufferKind): Promise<boolean> {
  const reason = await serviceUnavailable(buffer);
  if (reason === undefined) return true;
  console.warn(`SKIPPED fault test '${t.name}': ${reason}`);
  t.skip(reason);
  return false;
}

export function killProc(proc: Proc | undefined): Promise<void> {
  if (proc === undefined || proc.exited()) return Promise.resolve();
  return new Promise((resolve) => {
    proc.child.once('exit', () => resolve());
    proc.child.kill('SIGKILL');
  });
}

const refusedCount = (ledger: Ledger) => [...ledger.refusals.values()].reduce((a, b) => a + b, 0);

/**
 * Connector SIGKILLed mid-stream and restarted: `count` webhooks posted, the connector killed once
 * `killAfter` were delivered (the target answers slowly so deliveries are in progress), then a new one.
 */
export async function connectorKilledMidStream(
  stack: Stack,
  scenario: string,
  count: number,
  killAfter: number,
): Promise<void> {
  stack.target.setDelay(60); // keeps deliveries in progress when the kill comes
  const ledger = new Ledger(scenario, stack);
  const posting = ledger.post(count, 10);
  await waitUntil(
    () => ledger.deliveries().size >= killAfter,
    `${killAfter} deliveries before the kill`,
    DEADLINE_MS,
  );
  await stack.killConnector();
  const beforeRestart = ledger.deliveries().size;
  await posting;
  assert.equal(ledger.accepted.size, count, 'the receiver accepted every post (it never went away)');
  assert.ok(beforeRestart < count, 'the connector was killed before it delivered everything');
  await stack.startConnector('restarted');
  await ledger.settle(DEADLINE_MS, `${beforeRestart} delivered before the kill`);
}

/**
 * Receiver SIGKILLed while posts continue, then restarted on the same buffer: posts made while it is down
 * fail (never a 200); every accepted post is delivered.
 */
export async function receiverKilledMidIngest(
  stack: Stack,
  scenario: string,
  sizes: { before: number; refusedWhileDown: number; after: number },
): Promise<void> {
  const ledger = new Ledger(scenario, stack);
  let stopPosting = false;
  const posting = ledger.post(100_000, 8, () => stopPosting);
  await waitUntil(
    () => ledger.accepted.size >= sizes.before,
    `${sizes.before} accepted posts before the kill`,
    DEADLINE_MS,
  );
  await killProc(stack.receiver);
  const acceptedAtKill = ledger.accepted.size;
  // Posts keep going while the receiver is down: they must fail (never a 200).
  await waitUntil(
    () => refusedCount(ledger) >= sizes.refusedWhileDown,
    `${sizes.refusedWhileDown} refused posts while the receiver is down`,
    DEADLINE_MS,
  );
  assert.equal(ledger.accepted.size, acceptedAtKill, 'no post is accepted while the receiver is dead');
  await stack.startReceiver();
  await waitUntil(
    () => ledger.accepted.size >= acceptedAtKill + sizes.after,
    `${sizes.after} more accepted posts after the restart`,
    DEADLINE_MS,
  );
  stopPosting = true;
  await posting;
  await ledger.settle(DEADLINE_MS, `${acceptedAtKill} accepted before the kill`);
}

/**
 * Receiver SIGKILLed mid-delivery: `count` webhooks accepted, the connector is delivering them (slow
 * target) when the receiver is killed; a new receiver starts on the same buffer and port, the connector
 * reconnects by itself and every accepted id arrives. Acks that died with the receiver make duplicates.
 */
export async function receiverKilledMidDelivery(
  stack: Stack,
  scenario: string,
  count: number,
  killAfter: number,
): Promise<void> {
  // 200 ms per delivery with the connector's 20 concurrent requests: about 100 a second, so most of the
  // messages are still in the buffer (or leased) when the receiver dies.
  // The target holds its first requests until every post was accepted, so delivery starts from a known
  // point whatever the machine's speed.
  stack.target.setDelay(200);
  stack.target.setMode({ kind: 'stall' });
  const ledger = new Ledger(scenario, stack);
  await ledger.post(count, 10);
  assert.equal(ledger.accepted.size, count, 'every post accepted before the kill');
  stack.target.setMode({ kind: 'succeed' });
  await waitUntil(
    () => ledger.deliveries().size >= killAfter,
    `${killAfter} deliveries before the kill`,
    DEADLINE_MS,
  );
  const connectedBefore = stack.connectedCount();
  await killProc(stack.receiver);
  const atKill = ledger.deliveries().size;
  assert.ok(atKill < count, 'the receiver was killed before everything was delivered');
  await stack.startReceiver();
  await waitUntil(
    () => stack.connectedCount() > connectedBefore,
    'the same connector process to reconnect to the new receiver',
    DEADLINE_MS,
  );
  const atReconnect = ledger.deliveries().size;
  await ledger.settle(
    DEADLINE_MS,
    `${atKill} delivered before the kill, ${count - atReconnect} only after the reconnect`,
  );
  assert.ok(atReconnect < count, 'messages were left for the new receiver to deliver');
  assert.equal(stack.connector?.exited(), false, 'the connector process stayed up');
}

/**
 * The buffer's service unreachable mid-stream (its connection runs through `proxy`, which is cut and
 * restored after at least `minOutageMs`): posts made during the outage answer 503 (never 200, no other
 * refusal); afterwards posting resumes by itself and every accepted id arrives.
 */
export async function bufferOutageMidStream(
  stack: Stack,
  proxy: CuttableProxy,
  scenario: string,
  sizes: { before: number; refusedDuring: number; after: number; minOutageMs: number },
): Promise<void> {
  stack.target.setDelay(20);
  const ledger = new Ledger(scenario, stack);
  interface Outcome {
    readonly startedAt: number;
    readonly endedAt: number;
    readonly ok: boolean;
  }
  const outcomes: Outcome[] = [];
  let firstRefusalAt: number | undefined;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const startedAt = Date.now();
      const ok = await ledger.postOne();
      const endedAt = Date.now();
      outcomes.push({ startedAt, endedAt, ok });
      if (!ok) {
        firstRefusalAt ??= endedAt;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const posting = Promise.all(Array.from({ length: 4 }, worker));
  try {
    await waitUntil(
      () => ledger.accepted.size >= sizes.before && ledger.deliveries().size >= sizes.before / 2,
      `${sizes.before} accepted and ${sizes.before / 2} delivered before the outage`,
      DEADLINE_MS,
    );
    assert.equal(firstRefusalAt, undefined, 'no refusal before the outage');
    const cutAt = Date.now();
    await proxy.cut();
    await waitUntil(
      () =>
        firstRefusalAt !== undefined &&
        Date.now() - cutAt >= sizes.minOutageMs &&
        outcomes.filter((o) => o.startedAt >= firstRefusalAt! && !o.ok).length >= sizes.refusedDuring,
      `${sizes.refusedDuring} refused posts during an outage of at least ${sizes.minOutageMs} ms`,
      DEADLINE_MS,
    );
    const restoredAt = Date.now();
    const acceptedAtRestore = ledger.accepted.size;
    await proxy.open();
    const during = outcomes.filter((o) => o.startedAt >= firstRefusalAt! && o.endedAt <= restoredAt);
    assert.ok(during.length >= sizes.refusedDuring);
    assert.equal(during.filter((o) => o.ok).length, 0, 'no post made during the outage was answered 200');
    await waitUntil(
      () => ledger.accepted.size >= acceptedAtRestore + sizes.after,
      `${sizes.after} more accepted posts after the buffer came back`,
      DEADLINE_MS,
    );
    stop = true;
    await posting;
    assert.deepEqual(
      [...ledger.refusals.keys()],
      ['HTTP 503'],
      `every refusal is a 503 (${JSON.stringify(Object.fromEntries(ledger.refusals))})`,
    );
    await ledger.settle(
      DEADLINE_MS,
      `outage ${restoredAt - cutAt} ms (first 503 after ${firstRefusalAt! - cutAt} ms), ${during.length} posts during it`,
    );
  } finally {
    stop = true;
    await proxy.open();
    await posting;
  }
}

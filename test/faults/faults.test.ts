/**
 * Fault injection (issue 7) with real processes: a receiver (`serve`, `webhook_connect` module, sqlite
 * buffer), one or two connectors (`connector --config FILE`, WebSocket) and the recording target, built on
 * the e2e stack (`test/e2e/stack.ts`). Every scenario keeps a ledger (`ledger.ts`): the ids the sender got
 * a 200 for, and the deliveries the target answered 2xx; the assertion is lost = 0, duplicates reported
 * as `ledger <scenario>: sent N, accepted A, delivered D, duplicates K, lost 0`.
 *
 * Sizes are trimmed for CI on a loaded 2-core machine (the 5,000 messages for the connector kill
 * become 500): each scenario boots two or three tsx processes (~3 s each there), and the whole file must
 * stay within about 3 minutes. Every wait polls for its condition with a 60 s deadline; every process is
 * SIGKILLed and the temp dir removed in `finally` (Stack.dispose).
 *
 * Only the sqlite buffer runs here (it needs no service); the scenarios that apply to the distributed
 * buffers (connector and receiver kills) run on Redis and RabbitMQ in `distributed.test.ts`, the buffer
 * outage in `buffer-outage.test.ts`; the scenario bodies are in `scenarios.ts`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RecordedRequest, TargetMode } from '../harness/recording-target.js';
import { waitUntil, type Stack, type StackOptions } from '../e2e/stack.js';
import { adminCall, Ledger, prng } from './ledger.js';
import {
  connectorKilledMidStream,
  DEADLINE_MS,
  killProc,
  receiverKilledMidDelivery,
  receiverKilledMidIngest,
  withStack as withBufferStack,
} from './scenarios.js';

function withStack(options: Partial<StackOptions>, body: (stack: Stack) => Promise<void>) {
  return withBufferStack({ buffer: 'sqlite', ...options }, body);
}

interface Stats {
  messages_queued: number;
  messages_in_flight: number;
  messages_delivered: number;
  messages_expired: number;
  messages_dead_lettered: number;
}

interface DeadLetter {
  message_id: string;
  reason: string;
  body: string;
}

async function deadLetters(stack: Stack): Promise<DeadLetter[]> {
  return ((await stack.admin('/dead-letters?limit=1000')) as { messages: DeadLetter[] }).messages;
}

describe('fault injection (sqlite buffer, real processes)', { concurrency: 1 }, () => {
  test('(1) connector SIGKILLed mid-stream and restarted: every accepted webhook delivered', async () => {
    // 500 messages, not the 5,000: CI time is limited; the kill/restart path is the same.
    await withStack({}, (stack) => connectorKilledMidStream(stack, 'connector-sigkill', 500, 100));
  });

  test('(2) receiver SIGKILLed mid-ingest and restarted on the same sqlite file: no accepted webhook lost', async () => {
    await withStack({}, (stack) =>
      receiverKilledMidIngest(stack, 'receiver-sigkill', { before: 150, refusedWhileDown: 20, after: 100 }),
    );
  });

  test('(3) target flapping (random 500s and stalls beyond the connector timeout) → eventual delivery', async () => {
    const seed = Date.now() % 1_000_000;
    const random = prng(seed);
    await withStack(
      {
        channel: { max_delivery_attempts: 100 },
        target: { timeout_seconds: 1, retry_max_attempts: 2, retry_delay_seconds: 0.1 },
      },
      async (stack) => {
        const STALL_MS = 2500; // beyond the connector's 1 s target timeout
        const stalledSince = new Map<RecordedRequest, number>();
        let failed = 0;
        let stalls = 0;
        stack.target.setHandler((request): TargetMode | undefined => {
          const since = stalledSince.get(request);
          if (since !== undefined) {
            // Re-evaluated after a stall: the connector gave up on it long ago; answer 500 (not a delivery).
            return Date.now() - since >= STALL_MS ? { kind: 'fail', status: 500 } : { kind: 'stall' };
          }
          const roll = random();
          if (roll < 0.3) {
            failed += 1;
            return { kind: 'fail', status: 500, body: 'flapping' };
          }
          if (roll < 0.4) {
            stalls += 1;
            stalledSince.set(request, Date.now());
            return { kind: 'stall' };
          }
          return undefined;
        });
        // Re-evaluates stalled requests every 250 ms (setMode wakes them; the handler decides).
        const ticker = setInterval(() => stack.target.setMode({ kind: 'succeed' }), 250);
        try {
          const ledger = new Ledger('target-flapping', stack);
          await ledger.post(200, 10);
          assert.equal(ledger.accepted.size, 200);
          await ledger.settle(DEADLINE_MS, `seed ${seed}, ${failed} answered 500, ${stalls} stalled`);
          assert.ok(failed + stalls > 0, 'the target did flap');
        } finally {
          clearInterval(ticker);
        }
      },
    );
  });

  /**
   * Dead letters, then the target is fixed and the dead letters replayed: `restartConnector` false replays to
   * the connector that saw the 400s; true restarts the connector first (its in-memory dedup cache gone).
   */
  async function deadLetterReplay(stack: Stack, scenario: string, restartConnector: boolean) {
    stack.target.setMode({ kind: 'fail', status: 400, body: 'faults: schema rejected' });
    const ledger = new Ledger(scenario, stack);
    await ledger.post(50, 10);
    assert.equal(ledger.accepted.size, 50);
    let dead: DeadLetter[] = [];
    await waitUntil(
      async () => (dead = await deadLetters(stack)).length >= 50,
      () => `50 dead letters (have ${dead.length})`,
      DEADLINE_MS,
    );
    assert.equal(dead.length, 50);
    for (const letter of dead) assert.match(letter.reason, /HTTP 400/, 'the reason names the status');
    const stats = (await stack.admin('/stats')) as Stats;
    assert.equal(stats.messages_dead_lettered, 50);
    assert.equal(ledger.deliveries().size, 0, 'nothing was delivered while the target refused');
    stack.target.setMode({ kind: 'succeed' });
    if (restartConnector) {
      await stack.killConnector();
      await stack.startConnector('restarted');
    }
    const replayed = (await adminCall(stack, 'POST', '/dead-letters/replay', {})) as { replayed: number };
    assert.equal(replayed.replayed, 50);
    await ledger.settle(DEADLINE_MS, '50 dead-lettered with HTTP 400 then replayed');
    await waitUntil(
      async () => (await deadLetters(stack)).length === 0,
      'the dead letters to be gone after the replay',
      DEADLINE_MS,
    );
  }

  test(
    '(4a) target permanently 400 → dead letters with reasons; fixed and replayed to the same connector → delivered',
    {},
    async () => {
      await withStack({}, (stack) => deadLetterReplay(stack, 'target-400-replay', false));
    },
  );

  test('(4b) target permanently 400 → dead letters with reasons; fixed, connector restarted, replayed → delivered', async () => {
    await withStack({}, (stack) => deadLetterReplay(stack, 'target-400-replay-restarted', true));
  });

  test('(5) TTL expiry while the connector is away → dead-lettered `expired` and counted, never dropped', async () => {
    await withStack({ channel: { ttl_seconds: 2 } }, async (stack) => {
      await stack.killConnector();
      const ledger = new Ledger('ttl-expiry', stack);
      await ledger.post(30, 10);
      assert.equal(ledger.accepted.size, 30);
      let stats: Stats | undefined;
      let dead: DeadLetter[] = [];
      await waitUntil(
        async () => {
          stats = (await stack.admin('/stats')) as Stats;
          dead = await deadLetters(stack);
          return stats.messages_expired >= 30 && dead.length >= 30;
        },
        () => `30 expired dead letters (stats ${JSON.stringify(stats)}, dead letters ${dead.length})`,
        // The relay reclaims expired messages every 30 s (RECLAIM_INTERVAL_MS), so expiry shows up to 30 s
        // after the 2 s TTL: the usual 60 s deadline plus that period.
        DEADLINE_MS + 30_000,
      );
      assert.equal(stats!.messages_expired, 30, 'every expired message is counted');
      assert.equal(stats!.messages_queued, 0);
      assert.equal(dead.length, 30);
      const deadIds = new Set(
        dead.map((letter) => JSON.parse(Buffer.from(letter.body, 'base64').toString()).ledger_id),
      );
      for (const letter of dead) assert.equal(letter.reason, 'expired');
      for (const id of ledger.accepted) assert.ok(deadIds.has(id), `${id} is an expired dead letter`);
      const delivered = ledger.deliveries().size;
      console.log(
        `ledger ttl-expiry: sent ${ledger.sent.size}, accepted ${ledger.accepted.size}, delivered ${delivered}, duplicates 0, lost ${ledger.accepted.size - deadIds.size - delivered} (dead-lettered expired ${deadIds.size}, messages_expired ${stats!.messages_expired})`,
      );
    });
  });

  test('(6) two connectors on one channel, one SIGKILLed → the other takes over its in-flight messages', async () => {
    await withStack({}, async (stack) => {
      stack.target.setDelay(150); // keeps messages in flight on both connectors
      const first = stack.connector;
      await stack.startConnector('second');
      const ledger = new Ledger('two-connectors', stack);
      await ledger.post(200, 10);
      assert.equal(ledger.accepted.size, 200);
      const byFirst = () => stack.target.requests.filter((request) => request.path === '/github').length;
      await waitUntil(() => byFirst() >= 10, 'the first connector to be delivering', DEADLINE_MS);
      await killProc(first);
      const firstDelivered = byFirst();
      await ledger.settle(DEADLINE_MS, `${firstDelivered} requests by the killed connector`);
      const bySecond = stack.target.requests.filter((request) => request.path === '/second').length;
      assert.ok(bySecond > 0, 'the surviving connector delivered');
    });
  });

  test('(8) receiver SIGKILLed mid-delivery, a new one started on the same sqlite file: the connector reconnects, every accepted webhook delivered', async () => {
    await withStack({}, (stack) =>
      receiverKilledMidDelivery(stack, 'receiver-sigkill-mid-delivery', 300, 60),
    );
  });
});

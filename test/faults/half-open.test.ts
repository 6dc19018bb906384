/**
 * Fault injection (issue 7), half-open connection: a connector process is paused with SIGSTOP, so its
 * WebSocket stops reading and sending without closing. The relay must evict it by the heartbeat deadline
 * (3 missed `heartbeat_interval_seconds`) and hand its leased messages to a second connector. The lease
 * (`ack_timeout_seconds`) is set far beyond the 60 s deadline, so only the eviction can release them.
 * Ledger as in faults.test.ts: every accepted id delivered, duplicates reported. A separate file so the
 * runner can run it next to faults.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stack, waitUntil } from '../e2e/stack.js';
import { Ledger } from './ledger.js';

const DEADLINE_MS = 60_000;

test('(7) half-open connector (SIGSTOP) → evicted by the heartbeat deadline, its messages delivered by another connector', async () => {
  const stack = await Stack.start({
    buffer: 'sqlite',
    transport: 'websocket',
    channel: { heartbeat_interval_seconds: 1, ack_timeout_seconds: 600 },
  });
  const paused = stack.connector;
  try {
    // The target never answers the first connector: everything it leased stays unacked, so only the
    // eviction can hand those messages to the second connector.
    stack.target.setHandler((request) => (request.path === '/github' ? { kind: 'stall' } : undefined));
    const ledger = new Ledger('half-open', stack);
    await ledger.post(100, 10);
    assert.equal(ledger.accepted.size, 100);
    const byPaused = () => stack.target.requests.filter((request) => request.path === '/github').length;
    await waitUntil(() => byPaused() >= 10, 'the first connector to be delivering', DEADLINE_MS);
    assert.equal(ledger.deliveries().size, 0, 'nothing delivered before the pause');
    paused!.child.kill('SIGSTOP');
    const pausedAt = byPaused();
    await stack.startConnector('second');
    await ledger.settle(DEADLINE_MS, `${pausedAt} requests stalled at the paused connector`);
    const connections = (await stack.admin('/connections')) as { connections: unknown[] };
    assert.equal(connections.connections.length, 1, 'the paused connector was evicted');
    assert.ok(
      stack.target.requests.some((request) => request.path === '/second'),
      'the second connector delivered',
    );
  } catch (error) {
    if (error instanceof Error) error.message += `\n${stack.describe()}`;
    throw error;
  } finally {
    paused?.child.kill('SIGCONT');
    await stack.dispose();
  }
});

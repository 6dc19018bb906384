import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { frameBodyBytes, isValidChannelName, parseClientFrame, parseServerFrame, ROUTES } from './frames.js';

test('reference client frames parse; retry defaults to true', () => {
  assert.deepEqual(parseClientFrame('{"type":"ack","message_id":"msg_1"}'), {
    ok: true,
    frame: { type: 'ack', messageIds: ['msg_1'] },
  });
  const nack = parseClientFrame('{"type":"nack","message_id":"msg_2"}');
  assert.ok(nack.ok && nack.frame.type === 'nack' && nack.frame.retry === true);
  const reject = parseClientFrame(
    '{"type":"nack","message_id":"msg_2","retry":false,"error":"400 from target"}',
  );
  assert.ok(
    reject.ok &&
      reject.frame.type === 'nack' &&
      !reject.frame.retry &&
      reject.frame.error === '400 from target',
  );
  assert.deepEqual(parseClientFrame('{"type":"heartbeat","timestamp":"x"}'), {
    ok: true,
    frame: { type: 'heartbeat' },
  });
});

test('additive batch acks and nack delays parse', () => {
  const batch = parseClientFrame('{"type":"ack","message_ids":["a","b"]}');
  assert.deepEqual(batch, { ok: true, frame: { type: 'ack', messageIds: ['a', 'b'] } });
  const delayed = parseClientFrame('{"type":"nack","message_ids":["a"],"delay_seconds":5}');
  assert.ok(delayed.ok && delayed.frame.type === 'nack' && delayed.frame.delaySeconds === 5);
});

test('malformed client frames are errors, never exceptions', () => {
  for (const text of [
    '',
    'not json',
    '[]',
    'null',
    '{"type":"ack"}',
    '{"type":"ack","message_id":""}',
    '{"type":"nack","message_id":"a","retry":"no"}',
    '{"type":"nack","message_id":"a","delay_seconds":-1}',
    '{"type":"bogus"}',
    '{"message_id":"a"}',
  ]) {
    assert.equal(parseClientFrame(text).ok, false, text);
  }
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
      const result = parseClientFrame(text);
      assert.equal(typeof result.ok, 'boolean');
    }),
    { numRuns: 2000 },
  );
});

test('server frames: webhook needs message_id and webhook_id; unknown types reported', () => {
  const frame = parseServerFrame(
    '{"type":"webhook","message_id":"msg_1","sequence":1,"webhook_id":"w","timestamp":"t","headers":{},"payload":{"a":1}}',
  );
  assert.ok(frame.ok);
  assert.equal(parseServerFrame('{"type":"webhook","sequence":1}').ok, false);
  assert.equal(parseServerFrame('{"type":"surprise"}').ok, false);
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (text) => typeof parseServerFrame(text).ok === 'boolean'),
  );
});

test('frame body: exact bytes from body, serialised payload without it', () => {
  const bytes = Buffer.from([0, 255, 10, 13]);
  const base = {
    type: 'webhook',
    message_id: 'm',
    sequence: 1,
    webhook_id: 'w',
    timestamp: 't',
    headers: {},
  } as const;
  assert.deepEqual(frameBodyBytes({ ...base, payload: null, body: bytes.toString('base64') }), bytes);
  assert.equal(frameBodyBytes({ ...base, payload: { a: 1 } }).toString(), '{"a":1}');
  assert.equal(frameBodyBytes({ ...base, payload: 'plain' }).toString(), 'plain');
});

test('channel names and routes', () => {
  assert.ok(isValidChannelName('stripe-payments'));
  assert.ok(isValidChannelName('a.b_c-1'));
  for (const bad of ['', '-x', 'a..b', 'a/b', 'x'.repeat(129), 'ü'])
    assert.equal(isValidChannelName(bad), false, bad);
  assert.equal(ROUTES.websocket('stripe-payments'), '/connect/stream/stripe-payments');
  assert.equal(ROUTES.poll('a.b'), '/connect/stream/a.b/poll');
});

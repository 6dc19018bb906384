import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { silentLogger } from '../../observability/logger.js';
import type { WebhookEvent } from '../types.js';
import { createLogModule, LOG_MAX_CHARS } from './index.js';
import { logConfigSchema } from './schema.js';

function collector() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function event(payload: unknown, headers: Record<string, string> = {}): WebhookEvent {
  return {
    webhookId: 'hook',
    configKey: 'hook',
    messageId: 'm1',
    receivedAt: new Date(),
    payload,
    headers,
    rawBody: Buffer.alloc(0),
    rawHeaders: headers,
    contentType: 'application/json',
    query: {},
  };
}

async function logOnce(
  moduleConfig: Record<string, unknown>,
  ev: WebhookEvent,
  connection?: Record<string, unknown>,
) {
  const out = collector();
  const publisher = await createLogModule({ stream: out.stream }).create(
    { moduleConfig: logConfigSchema.parse(moduleConfig), connection, webhookId: 'hook' },
    { logger: silentLogger(), outbound: { allowedHosts: [] } },
  );
  await publisher.deliver(ev, new AbortController().signal);
  await publisher.close();
  return out.text();
}

test('compact mode prints config, headers and body lines with sensitive values redacted', async () => {
  const text = await logOnce(
    {},
    event(
      { user: 'bob', password: 'hunter2', nested: { api_key: 'k1' } },
      { authorization: 'Bearer s3', 'x-ok': '1' },
    ),
    { password: 'conn-secret' },
  );
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^config: /);
  assert.match(lines[1]!, /^headers: /);
  assert.match(lines[2]!, /^body: /);
  for (const secret of ['hunter2', 'k1', 'Bearer s3', 'conn-secret'])
    assert.ok(!text.includes(secret), secret);
  assert.match(text, /"user":"bob"/);
  assert.match(text, /"x-ok":"1"/);
  assert.match(text, /\[REDACTED\]/);
});

test('redact_sensitive false prints values but never connection details', async () => {
  const text = await logOnce({ redact_sensitive: false }, event({ password: 'visible' }), {
    password: 'conn-secret',
  });
  assert.match(text, /visible/);
  assert.ok(!text.includes('conn-secret'));
});

test('control characters, depth, cycles and length are bounded', async () => {
  const deep: Record<string, unknown> = {};
  let cursor = deep;
  for (let i = 0; i < 15; i++) cursor = (cursor.next = {}) as Record<string, unknown>;
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  const text = await logOnce({}, event({ text: 'a\r\nb\u0007c', deep, cyclic, long: 'x'.repeat(20_000) }));
  assert.match(text, /a\[NL\]b\[CTRL\]c/);
  assert.match(text, /\[Max depth exceeded\]/);
  assert.match(text, /\[Circular reference\]/);
  assert.match(text, /\.\.\. \[truncated\]/);
  const body = text.split('\n').find((line) => line.startsWith('body: '))!;
  assert.ok(body.length <= 'body: '.length + LOG_MAX_CHARS + '... [truncated]'.length);
});

test('pretty mode prints a banner and indented JSON; blobs are summarised', async () => {
  const text = await logOnce({ pretty_print: true }, event({ a: 1 }));
  assert.match(text, /WEBHOOK RECEIVED/);
  assert.match(text, /\{\n {2}"a": 1\n\}/);
  const blob = await logOnce({}, { ...event(null), payload: Buffer.from('abc'), contentType: 'image/png' });
  assert.match(blob, /<binary 3 bytes, image\/png>/);
});

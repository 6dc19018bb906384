import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookConnectError } from '../../shared/errors.js';
import { parseJsonBody } from './json-body.js';

function expectCode(fn: () => unknown, code: string, detail?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WebhookConnectError);
    assert.equal(error.code, code);
    assert.equal(error.status, 400);
    if (detail !== undefined) assert.equal(error.detail, detail);
    return true;
  });
}

test('any JSON value is accepted', () => {
  assert.deepEqual(parseJsonBody(Buffer.from('{"a":[1,2,{"b":null}]}'), 'application/json'), {
    a: [1, 2, { b: null }],
  });
  assert.deepEqual(parseJsonBody(Buffer.from('[1]'), undefined), [1]);
  assert.equal(parseJsonBody(Buffer.from('"s"'), undefined), 's');
  assert.equal(parseJsonBody(Buffer.from(' 42 '), undefined), 42);
  assert.equal(parseJsonBody(Buffer.from('null'), undefined), null);
});

test('malformed JSON and an empty body are WC_JSON_MALFORMED with the reference message', () => {
  for (const body of ['', '{', '{"a":}', "{'a':1}", '[1,]', 'NaN', '{"a":1} x']) {
    expectCode(
      () => parseJsonBody(Buffer.from(body), 'application/json'),
      'WC_JSON_MALFORMED',
      'Malformed JSON payload',
    );
  }
});

test('a 10,000-deep body is refused before parsing', () => {
  expectCode(
    () => parseJsonBody(Buffer.from('['.repeat(10_000) + ']'.repeat(10_000)), undefined),
    'WC_JSON_TOO_DEEP',
    'JSON too deeply nested: 51 levels (max: 50)',
  );
  // Even when it is not well-formed (it would otherwise be JSON.parse's problem).
  expectCode(() => parseJsonBody(Buffer.from('{"a":'.repeat(10_000)), undefined), 'WC_JSON_TOO_DEEP');
  assert.ok(Array.isArray(parseJsonBody(Buffer.from('['.repeat(50) + ']'.repeat(50)), undefined)));
  expectCode(
    () => parseJsonBody(Buffer.from('[[[]]]'), undefined, { maxDepth: 2 }),
    'WC_JSON_TOO_DEEP',
    'JSON too deeply nested: 3 levels (max: 2)',
  );
});

test('long strings, invalid UTF-8 and declared charsets go through the pipeline', () => {
  expectCode(
    () =>
      parseJsonBody(Buffer.from(JSON.stringify({ s: 'x'.repeat(11) })), undefined, { maxStringLength: 10 }),
    'WC_JSON_STRING_TOO_LONG',
    'String too long: 11 chars (max: 10)',
  );
  // An escape sequence is one character once parsed.
  assert.deepEqual(parseJsonBody(Buffer.from('{"s":"\\u00e9\\u00e9"}'), undefined, { maxStringLength: 2 }), {
    s: 'éé',
  });
  expectCode(
    () => parseJsonBody(Buffer.from([0x5b, 0x22, 0xe9, 0x22, 0x5d]), 'application/json'),
    'WC_BODY_UNDECODABLE',
  );
  assert.deepEqual(
    parseJsonBody(Buffer.from([0x5b, 0x22, 0xe9, 0x22, 0x5d]), 'application/json; charset=latin-1'),
    ['é'],
  );
  assert.deepEqual(parseJsonBody(Buffer.from('\uFEFF{"ok":true}'), 'application/json'), { ok: true });
  assert.deepEqual(
    parseJsonBody(Buffer.from('{"ok":"☃"}', 'utf16le'), 'application/json; charset=utf-16le'),
    { ok: '☃' },
  );
});

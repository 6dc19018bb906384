import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WebhookConnectError } from '../../shared/errors.js';
import { checkJsonDepthBeforeParse, checkJsonLimits, DEFAULT_JSON_LIMITS, scanJsonDepth } from './json.js';

function nested(depth: number, open = '[', close = ']', inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** Builds a depth-`depth` value without JSON.parse or recursion. */
function nestedValue(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

function expectCode(fn: () => void, code: string, detail: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WebhookConnectError);
    assert.equal(error.code, code);
    assert.equal(error.status, 400);
    assert.equal(error.detail, detail);
    return true;
  });
}

test('defaults are depth 50 and 1 Mi characters', () => {
  assert.deepEqual({ ...DEFAULT_JSON_LIMITS }, { maxDepth: 50, maxStringLength: 1_048_576 });
});

test('depth 50 passes and depth 51 fails with the reference message', () => {
  checkJsonLimits(nestedValue(50));
  expectCode(
    () => checkJsonLimits(nestedValue(51)),
    'WC_JSON_TOO_DEEP',
    'JSON too deeply nested: 51 levels (max: 50)',
  );
  checkJsonLimits(nestedValue(3), { maxDepth: 3 });
  expectCode(
    () => checkJsonLimits(nestedValue(4), { maxDepth: 3 }),
    'WC_JSON_TOO_DEEP',
    'JSON too deeply nested: 4 levels (max: 3)',
  );
});

test('scalars, empty containers and wide documents are fine', () => {
  for (const value of [null, 0, true, 'text', [], {}, Array.from({ length: 10_000 }, (_, i) => ({ i }))]) {
    checkJsonLimits(value);
  }
});

test('a 10,000-deep parsed value is refused without overflowing the stack', () => {
  expectCode(
    () => checkJsonLimits(nestedValue(10_000)),
    'WC_JSON_TOO_DEEP',
    'JSON too deeply nested: 51 levels (max: 50)',
  );
  // And with a limit above it, the whole thing is walked iteratively.
  checkJsonLimits(nestedValue(100_000), { maxDepth: 100_000 });
});

test('string values longer than the limit are refused; keys are not checked', () => {
  checkJsonLimits({ s: 'x'.repeat(1_048_576) });
  expectCode(
    () => checkJsonLimits({ a: [1, { s: 'x'.repeat(1_048_577) }] }),
    'WC_JSON_STRING_TOO_LONG',
    'String too long: 1048577 chars (max: 1048576)',
  );
  expectCode(
    () => checkJsonLimits('abcd', { maxStringLength: 3 }),
    'WC_JSON_STRING_TOO_LONG',
    'String too long: 4 chars (max: 3)',
  );
  checkJsonLimits({ ['k'.repeat(10)]: 'ok' }, { maxStringLength: 3 });
});

test('the pre-parse scan refuses a 10,000-deep body as text and as bytes', () => {
  const text = nested(10_000);
  assert.equal(scanJsonDepth(text, 50), 51);
  assert.equal(scanJsonDepth(Buffer.from(text), 50), 51);
  expectCode(
    () => checkJsonDepthBeforeParse(text),
    'WC_JSON_TOO_DEEP',
    'JSON too deeply nested: 51 levels (max: 50)',
  );
  expectCode(
    () => checkJsonDepthBeforeParse(Buffer.from(nested(60, '{"a":', '}'))),
    'WC_JSON_TOO_DEEP',
    'JSON too deeply nested: 51 levels (max: 50)',
  );
});

test('the pre-parse scan ignores brackets inside strings, including after escaped quotes', () => {
  const tricky = JSON.stringify({ s: '[[[[[[{{{{{{ \\" "[[[[' + '['.repeat(100), t: ['\\', '"]]]]'] });
  assert.equal(scanJsonDepth(tricky, 2), 0);
  assert.equal(scanJsonDepth(Buffer.from(tricky), 2), 0);
  assert.equal(scanJsonDepth(tricky, 1), 2);
  assert.equal(scanJsonDepth(JSON.stringify(['é', '€ ["', { a: '\u{1F600}[' }]), 2), 0);
  assert.equal(scanJsonDepth(Buffer.from(JSON.stringify(['é', '€ ["', { a: '\u{1F600}[' }])), 1), 2);
});

test('property: the pre-parse scan agrees with the parsed-value check on any JSON document', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (value, maxDepth) => {
      const text = JSON.stringify(value);
      let parsedVerdict = 0;
      try {
        checkJsonLimits(value, { maxDepth });
      } catch (error) {
        assert.ok(error instanceof WebhookConnectError && error.code === 'WC_JSON_TOO_DEEP');
        parsedVerdict = maxDepth + 1;
      }
      assert.equal(scanJsonDepth(text, maxDepth), parsedVerdict);
      assert.equal(scanJsonDepth(Buffer.from(text), maxDepth), parsedVerdict);
    }),
    { numRuns: 500 },
  );
});

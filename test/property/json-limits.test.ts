/**
 * Property tests for the JSON limits: `checkJsonLimits` never throws anything but a coded
 * `WC_JSON_TOO_DEEP` / `WC_JSON_STRING_TOO_LONG`, on any value (not only what JSON.parse returns), and its
 * verdict matches an independent recursive oracle; `parseJsonBody` answers any bytes with a value or one of
 * its four coded errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkJsonLimits, parseJsonBody } from '../../src/receiver/limits/index.js';
import { WebhookConnectError } from '../../src/shared/errors.js';

/** Depth as documented: a scalar is 0, `[]`/`{}` are 1, `[[1]]` is 2. */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  let deepest = 0;
  for (const child of children) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

function longestString(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  let longest = 0;
  for (const child of children) longest = Math.max(longest, longestString(child));
  return longest;
}

const limits = fc.record({
  maxDepth: fc.integer({ min: 0, max: 8 }),
  maxStringLength: fc.integer({ min: 0, max: 20 }),
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof WebhookConnectError, `threw a non-coded ${String(error)}`);
    assert.equal(error.status, 400);
    return error.code;
  }
}

test('property: checkJsonLimits on any JSON value agrees with the oracle and throws only coded errors', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 10 }), limits, (value, limit) => {
      const code = codeOf(() => checkJsonLimits(value, limit));
      const tooDeep = depthOf(value) > limit.maxDepth;
      const tooLong = longestString(value) > limit.maxStringLength;
      if (!tooDeep && !tooLong) assert.equal(code, undefined);
      else {
        assert.ok(code !== undefined, 'a violation was not reported');
        // The first violation found is reported; either kind is right when both are present.
        const allowed = [
          ...(tooDeep ? ['WC_JSON_TOO_DEEP'] : []),
          ...(tooLong ? ['WC_JSON_STRING_TOO_LONG'] : []),
        ];
        assert.ok(
          allowed.includes(code),
          `${code} for depth ${depthOf(value)} / string ${longestString(value)}`,
        );
      }
    }),
    { numRuns: 500 },
  );
});

test('property: checkJsonLimits never throws a non-coded error on arbitrary JavaScript values', () => {
  fc.assert(
    fc.property(
      fc.anything({
        maxDepth: 6,
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withTypedArray: true,
      }),
      limits,
      (value, limit) => {
        codeOf(() => checkJsonLimits(value, limit));
      },
    ),
    { numRuns: 500 },
  );
});

test('a cyclic value is refused as too deep instead of looping', () => {
  const cyclic: { self?: unknown; list: unknown[] } = { list: [] };
  cyclic.self = cyclic;
  cyclic.list.push(cyclic);
  assert.equal(
    codeOf(() => checkJsonLimits(cyclic)),
    'WC_JSON_TOO_DEEP',
  );
});

const BODY_CODES = [
  'WC_BODY_UNDECODABLE',
  'WC_JSON_TOO_DEEP',
  'WC_JSON_MALFORMED',
  'WC_JSON_STRING_TOO_LONG',
];

test('property: parseJsonBody answers any bytes with a value or one of its coded errors', () => {
  const jsonish = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '{',
          '}',
          '[',
          ']',
          '"',
          '\\',
          ':',
          ',',
          'null',
          'true',
          '1e9',
          '-0',
          '"\\u00',
          '\\"',
        ),
        fc.string({ maxLength: 5 }),
      ),
      { maxLength: 40 },
    )
    .map((parts) => Buffer.from(parts.join('')));
  const bytes = fc.oneof(
    jsonish,
    fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)),
    fc.jsonValue({ maxDepth: 8 }).map((value) => Buffer.from(JSON.stringify(value))),
  );
  const contentType = fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin-1',
    'application/json; charset=utf-16',
    'application/json; charset=utf-16be',
    'application/json; charset=us-ascii',
    'application/json; charset=koi8-r',
    'application/json; charset="',
  );
  fc.assert(
    fc.property(bytes, contentType, limits, (body, type, limit) => {
      let value: unknown;
      const code = codeOf(() => (value = parseJsonBody(body, type, limit)));
      if (code !== undefined) assert.ok(BODY_CODES.includes(code), code);
      else {
        // What was accepted is within the limits.
        assert.ok(depthOf(value) <= limit.maxDepth);
        assert.ok(longestString(value) <= limit.maxStringLength);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: a JSON document within the limits parses to what JSON.parse gives', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      const text = JSON.stringify(value);
      const roomy = { maxDepth: 50, maxStringLength: 1_048_576 };
      assert.deepEqual(parseJsonBody(Buffer.from(text), 'application/json', roomy), JSON.parse(text));
      assert.deepEqual(
        parseJsonBody(Buffer.from(`\uFEFF${text}`, 'utf16le'), 'application/json; charset=utf-16le', roomy),
        JSON.parse(text),
      );
    }),
    { numRuns: 300 },
  );
});

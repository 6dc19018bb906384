import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { ConfigIssue } from './issues.js';
import { formatIssue, formatReport, issuesFromZod } from './report.js';

function zodIssues(schema: z.ZodType, input: unknown, reportInput = false): ConfigIssue[] {
  const result = schema.safeParse(input, { reportInput });
  assert.equal(result.success, false, 'the input was expected to fail validation');
  return issuesFromZod(result.error as z.ZodError, 'webhooks.json');
}

function messagesByPath(issues: readonly ConfigIssue[]): Record<string, string> {
  return Object.fromEntries(issues.map((i) => [i.path.join('/'), i.message]));
}

test('formatIssue: file, entry name, then the rest with dots and [i]', () => {
  assert.equal(
    formatIssue({ file: 'webhooks.json', path: ['stripe_relay', 'hmac', 'secret'], message: 'required' }),
    'webhooks.json › stripe_relay › hmac.secret: required',
  );
  assert.equal(
    formatIssue({
      file: 'webhooks.json',
      path: ['x', 'chain', 1, 'module'],
      message: "unknown module 'foo'",
    }),
    "webhooks.json › x › chain[1].module: unknown module 'foo'",
  );
  assert.equal(formatIssue({ file: 'webhooks.json', path: ['x'], message: 'm' }), 'webhooks.json › x: m');
  assert.equal(formatIssue({ file: 'webhooks.json', path: [], message: 'm' }), 'webhooks.json: m');
  assert.equal(
    formatIssue({ file: 'w.json', path: ['x', 0, 1] as const, message: 'm' }),
    'w.json › x › [0][1]: m',
  );
});

test('formatIssue quotes keys that would read ambiguously', () => {
  assert.equal(
    formatIssue({ file: 'w.json', path: ['x', 'headers', 'a.b', 'c d'], message: 'm' }),
    'w.json › x › headers["a.b"]["c d"]: m',
  );
  assert.equal(formatIssue({ file: 'w.json', path: ['', 'a'], message: 'm' }), 'w.json › "" › a: m');
  assert.equal(
    formatIssue({ file: 'w.json', path: ['x-api', 'a-b'], message: 'm' }),
    'w.json › x-api › a-b: m',
  );
});

test('formatReport: header with count, one line per issue, sorted by file then path', () => {
  const issues: ConfigIssue[] = [
    { file: 'webhooks.json', path: ['b', 'chain', 10], message: 'm4' },
    { file: 'webhooks.json', path: ['b', 'chain', 2], message: 'm3' },
    { file: 'connections.json', path: ['z'], message: 'm1' },
    { file: 'webhooks.json', path: [], message: 'm2' },
    { file: 'webhooks.json', path: ['b', 'chain', 2], message: 'm3b' },
  ];
  assert.equal(
    formatReport(issues),
    [
      '5 configuration errors:',
      '  connections.json › z: m1',
      '  webhooks.json: m2',
      '  webhooks.json › b › chain[2]: m3',
      '  webhooks.json › b › chain[2]: m3b',
      '  webhooks.json › b › chain[10]: m4',
    ].join('\n'),
  );
  assert.equal(formatReport([{ file: 'a', path: [], message: 'm' }]), '1 configuration error:\n  a: m');
  assert.equal(issues[0]?.message, 'm4', 'the input list is not reordered');
});

const webhook = z.strictObject({
  module: z.enum(['log', 'save_to_disk']),
  hmac: z.strictObject({ secret: z.string().min(1), header: z.string() }).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  tags: z.array(z.string()).min(1).optional(),
  name: z.string().max(3).optional(),
  url: z.url().optional(),
  custom: z.string().min(5, 'must be a long token.').optional(),
});
const webhooks = z.record(z.string(), webhook);

test('issuesFromZod: required, unknown keys, enums, wrong types', () => {
  const issues = zodIssues(webhooks, {
    stripe_relay: { module: 'nope', hmac: { header: 5 }, extra: 1, other: 2 },
  });
  assert.deepEqual(
    issues.map((i) => [i.file, i.path, i.message]),
    [
      ['webhooks.json', ['stripe_relay', 'module'], 'expected one of: log, save_to_disk'],
      ['webhooks.json', ['stripe_relay', 'hmac', 'secret'], 'required'],
      ['webhooks.json', ['stripe_relay', 'hmac', 'header'], 'expected string, got number'],
      ['webhooks.json', ['stripe_relay', 'extra'], "unknown key 'extra'"],
      ['webhooks.json', ['stripe_relay', 'other'], "unknown key 'other'"],
    ],
  );
});

test('issuesFromZod: the same wording whether or not the input was reported', () => {
  const input = { a: { module: 'log', hmac: { secret: null, header: [] } } };
  assert.deepEqual(zodIssues(webhooks, input), zodIssues(webhooks, input, true));
  assert.deepEqual(messagesByPath(zodIssues(webhooks, input, true)), {
    'a/hmac/secret': 'expected string, got null',
    'a/hmac/header': 'expected string, got array',
  });
});

test('issuesFromZod: sizes, integers, formats and messages written in the schema', () => {
  const issues = zodIssues(webhooks, {
    a: {
      module: 'log',
      hmac: { secret: '', header: 'x' },
      port: 70000,
      tags: [],
      name: 'long',
      url: 'not a url',
      custom: 'abc',
    },
    b: { module: 'log', port: 1.5 },
    c: { module: 'log', port: 0 },
  });
  assert.deepEqual(messagesByPath(issues), {
    'a/hmac/secret': 'must not be empty',
    'a/port': 'must be <= 65535',
    'a/tags': 'must have at least 1 item',
    'a/name': 'must have at most 3 characters',
    'a/url': 'invalid URL',
    'a/custom': 'must be a long token',
    'b/port': 'expected an integer',
    'c/port': 'must be >= 1',
  });
});

test('issuesFromZod: a literal, a record key, a path prefix and refinements', () => {
  const schema = z.strictObject({
    kind: z.literal('relay'),
    headers: z.record(z.string().regex(/^[a-z-]+$/), z.string()),
    pair: z
      .object({ min: z.number(), max: z.number() })
      .refine((p) => p.min <= p.max, { message: 'min must not exceed max', path: ['min'] }),
  });
  const result = schema.safeParse({ kind: 'other', headers: { Bad_Key: 'v' }, pair: { min: 3, max: 1 } });
  assert.equal(result.success, false);
  const issues = issuesFromZod(result.error as z.ZodError, 'connections.json', ['conn']);
  assert.deepEqual(
    issues.map((i) => [i.path, i.message]),
    [
      [['conn', 'kind'], 'expected relay'],
      [['conn', 'headers', 'Bad_Key'], 'invalid key: must match pattern /^[a-z-]+$/'],
      [['conn', 'pair', 'min'], 'min must not exceed max'],
    ],
  );
  assert.ok(issues.every((i) => i.file === 'connections.json'));
});

test('issuesFromZod: a union reports the branch that fits best', () => {
  const target = z.union([
    z.string(),
    z.strictObject({ url: z.url(), timeout: z.number().optional() }),
    z.strictObject({ host: z.string(), port: z.number() }),
  ]);
  const schema = z.strictObject({ target, mode: target.optional() });
  // The object with `host` got further (one wrong field) than the string branch (wrong type).
  assert.deepEqual(messagesByPath(zodIssues(schema, { target: { host: 'h', port: 'x' } })), {
    'target/port': 'expected number, got string',
  });
  assert.deepEqual(messagesByPath(zodIssues(schema, { target: { url: 'nope' } })), {
    'target/url': 'invalid URL',
  });
  // No branch matched the type: name the types that would.
  assert.deepEqual(messagesByPath(zodIssues(schema, { target: 5 })), {
    target: 'expected string or object, got number',
  });
  assert.deepEqual(messagesByPath(zodIssues(schema, { target: 5 }, true)), {
    target: 'expected string or object, got number',
  });
  assert.deepEqual(messagesByPath(zodIssues(schema, {})), { target: 'required' });
});

test('issuesFromZod: a discriminated union names the allowed discriminators', () => {
  const auth = z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('hmac'), secret: z.string() }),
    z.strictObject({ type: z.literal('basic'), user: z.string() }),
  ]);
  const schema = z.strictObject({ auth });
  assert.deepEqual(messagesByPath(zodIssues(schema, { auth: { type: 'jwt' } })), {
    'auth/type': 'expected one of: hmac, basic',
  });
  assert.deepEqual(messagesByPath(zodIssues(schema, { auth: {} }, true)), {
    'auth/type': 'required (one of: hmac, basic)',
  });
  assert.deepEqual(messagesByPath(zodIssues(schema, { auth: { type: 'basic' } })), {
    'auth/user': 'required',
  });
});

test('issuesFromZod output formats into the report the user sees', () => {
  const issues = zodIssues(webhooks, { stripe_relay: { module: 'log', hmac: { header: 'x' } } });
  assert.equal(
    formatReport(issues),
    '1 configuration error:\n  webhooks.json › stripe_relay › hmac.secret: required',
  );
});

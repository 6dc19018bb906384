import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ConfigIssue } from './issues.js';
import { substituteVariables } from './substitute.js';

const FILE = 'webhooks.json';

function sub(value: unknown, env: Record<string, string | undefined> = {}) {
  return substituteVariables(value, env, FILE);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

test('whole-value forms: variable, default, empty default, default with } and :', () => {
  const env = { PORT: '5432', EMPTY: '' };
  assert.deepEqual(sub({ a: '{$PORT}' }, env), { value: { a: '5432' }, issues: [] });
  assert.deepEqual(sub('{$HOST:db.local}', env).value, 'db.local');
  assert.deepEqual(sub('{$HOST:}', env).value, '');
  assert.deepEqual(sub('{$PASS:a}b:c}d}', env).value, 'a}b:c}d');
  assert.deepEqual(sub('{$PORT:9999}', env).value, '5432');
  assert.deepEqual(sub('{$EMPTY:fallback}', env), { value: '', issues: [] }, 'empty counts as set');
});

test('embedded forms: several references, defaults, results are strings', () => {
  const env = { PORT: '8080', user_1: 'ann' };
  assert.deepEqual(sub('http://{$HOST:localhost}:{$PORT}/x', env).value, 'http://localhost:8080/x');
  assert.deepEqual(sub('{$user_1}@{$HOST:h}', env).value, 'ann@h');
  assert.deepEqual(
    sub('{$HOST:a}-{$PORT}', env).value,
    'a-8080',
    'not one whole value with default "a}-{$PORT"',
  );
  assert.deepEqual(sub('[{$HOST:}]', env).value, '[]');
  assert.deepEqual(sub({ port: '{$PORT}', n: 5, ok: true, none: null }, env).value, {
    port: '8080',
    n: 5,
    ok: true,
    none: null,
  });
});

test('an unset variable without a default is an issue at the value path, whole or embedded', () => {
  const input = { relay: { url: 'http://{$HOST}:{$PORT}/{$HOST}', chain: ['x', { token: '{$TOKEN}' }] } };
  const { value, issues } = sub(input, { PORT: '1' });
  assert.deepEqual(issues, [
    { file: FILE, path: ['relay', 'url'], message: 'environment variable HOST is not set' },
    { file: FILE, path: ['relay', 'chain', 1, 'token'], message: 'environment variable TOKEN is not set' },
  ]);
  // No "Undefined variable" text and no half-substituted placeholders: the value is left as written.
  assert.deepEqual(value, input);
});

test('only own properties of env count', () => {
  const { issues } = sub('{$constructor}', {});
  assert.deepEqual(issues, [
    { file: FILE, path: [], message: 'environment variable constructor is not set' },
  ]);
  assert.deepEqual(sub('{$toString:d}', {}).value, 'd');
});

test('vault references are reported, whole or embedded', () => {
  const { issues } = sub({ a: '{$vault:secret/db#password}', b: 'x-{$vault:kv/x#y:dflt}-y' }, {});
  assert.deepEqual(issues, [
    { file: FILE, path: ['a'], message: 'vault references are not supported' },
    { file: FILE, path: ['b'], message: 'vault references are not supported' },
  ]);
  assert.deepEqual(sub('{$vault}', { vault: 'v' }).value, 'v', 'a variable named vault is still a variable');
});

test('{$$ escapes a literal {$', () => {
  const env = { X: 'no' };
  assert.deepEqual(sub('{$$X}', env), { value: '{$X}', issues: [] });
  assert.deepEqual(sub('a {$$X:d} b {$X}', env).value, 'a {$X:d} b no');
  assert.deepEqual(sub('{$$$X}', env).value, '{$$X}');
  assert.deepEqual(sub('price: {$$}', env).value, 'price: {$}');
});

test('malformed references are reported instead of passed through', () => {
  for (const text of ['{$1ABC}', 'http://{$HOST/x', '{$}', '{$:x}', 'a{$ B}']) {
    const { value, issues } = sub({ k: text }, { HOST: 'h', B: 'b' });
    assert.equal(issues.length, 1, text);
    assert.deepEqual(issues[0]?.path, ['k']);
    assert.match(issues[0]?.message ?? '', /^malformed variable reference near '\{\$/);
    assert.deepEqual(value, { k: text });
  }
});

test('keys are never substituted; a __proto__ key stays a key', () => {
  const input = JSON.parse('{"{$A}": "{$A}", "__proto__": {"x": "{$A}"}}') as unknown;
  const { value } = sub(input, { A: 'a' });
  assert.deepEqual(Object.keys(value as object), ['{$A}', '__proto__']);
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, { x: 'a' });
});

test('returns a new structure and leaves the input untouched', () => {
  const input = deepFreeze({ a: ['{$A}', { b: '{$A}' }], c: 'plain' });
  const { value } = sub(input, { A: 'x' });
  assert.deepEqual(value, { a: ['x', { b: 'x' }], c: 'plain' });
  assert.notEqual(value, input);
  assert.deepEqual(input, { a: ['{$A}', { b: '{$A}' }], c: 'plain' });
});

test('depth limit of 100 levels; circular structures are reported, not followed', () => {
  const nest = (levels: number, leaf: string): unknown => {
    let v: unknown = leaf;
    for (let i = 0; i < levels; i++) v = [v];
    return v;
  };
  assert.deepEqual(sub(nest(100, '{$A}'), { A: 'a' }), { value: nest(100, 'a'), issues: [] });
  const deep = sub(nest(101, '{$A}'), { A: 'a' });

  assert.equal(deep.issues.length, 1);
  assert.equal(deep.issues[0]?.path.length, 100);
  assert.equal(deep.issues[0]?.message, 'nested deeper than 100 levels');

  const cyclic: Record<string, unknown> = { a: '{$A}' };
  cyclic.self = { back: cyclic };
  const { value, issues } = sub(cyclic, { A: 'a' });
  assert.deepEqual(issues, [{ file: FILE, path: ['self', 'back'], message: 'circular reference' }]);
  assert.deepEqual(value, { a: 'a', self: { back: undefined } });
});

// --- properties ---------------------------------------------------------------------------------------

const NAMES = ['A', 'B', 'HOST', 'vault', '_x1'];

/** Strings made of the pieces that matter to the parser, so references of every shape turn up often. */
const trickyString = fc
  .array(fc.constantFrom('{$', '{$$', '}', ':', '$', '{', ...NAMES, '1', ' ', 'x', '#', '/'), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

const trickyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    trickyString,
    fc.string(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), trickyString), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const someEnv = fc.dictionary(fc.constantFrom(...NAMES), fc.oneof(fc.string(), trickyString), { maxKeys: 5 });

function pathExists(root: unknown, path: readonly (string | number)[]): boolean {
  let node = root;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, segment)) {
      return false;
    }
    node = (node as Record<string | number, unknown>)[segment];
  }
  return true;
}

test('property: never throws, and every issue points at a path that exists in the input', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), trickyJson), someEnv, (input, env) => {
      const { issues } = sub(input, env);
      for (const issue of issues as ConfigIssue[]) {
        assert.equal(issue.file, FILE);
        assert.ok(pathExists(input, issue.path), `path ${JSON.stringify(issue.path)} not in input`);
        assert.ok(issue.message.length > 0);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: strings without {$ are returned unchanged (keys may contain anything)', () => {
  const plainString = fc.string({ unit: 'binary' }).filter((s) => !s.includes('{$'));
  const plainJson = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      plainString,
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string(), trickyString), tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  fc.assert(
    fc.property(plainJson, someEnv, (input, env) => {
      assert.deepEqual(sub(input, env), { value: input, issues: [] });
    }),
    { numRuns: 300 },
  );
});

test('property: set variables round-trip verbatim, whole and embedded', () => {
  const awkward = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.constantFrom(
      ';|&$()..',
      'id',
      'valid_token',
      '  padded  ',
      '',
      '{$OTHER}',
      'rm -rf /',
      '../etc',
      '/abs',
    ),
    fc.constantFrom('javascript:alert(1)', 'a\u0000b', 'x'.repeat(5000), 'pwd; whoami; uname`id`'),
  );
  const surround = fc.string().filter((s) => !s.includes('{$'));
  fc.assert(
    fc.property(awkward, surround, surround, (secret, before, after) => {
      const env = { SECRET: secret, OTHER: 'should not be reached' };
      assert.deepEqual(sub({ s: '{$SECRET}' }, env), { value: { s: secret }, issues: [] });
      assert.deepEqual(sub('{$SECRET:dflt}', env).value, secret);
      assert.deepEqual(sub(`${before}{$SECRET}${after}`, env), {
        value: `${before}${secret}${after}`,
        issues: [],
      });
    }),
    { numRuns: 300 },
  );
});

import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { MAX_CONFIG_FILE_BYTES, parseConfigText, readConfigFile } from './files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wc-files-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function failure(result: ReturnType<typeof readConfigFile>) {
  assert.equal(result.ok, false, 'expected the read to fail');
  return (
    result as { ok: false; issue: { file: string; path: readonly (string | number)[]; message: string } }
  ).issue;
}

test('reads JSON, and YAML for .yaml/.yml in any case', () => {
  assert.deepEqual(readConfigFile(file('webhooks.json', '{"a": {"module": "log", "n": [1, 2.5e3]}}')), {
    ok: true,
    data: { a: { module: 'log', n: [1, 2500] } },
  });
  const yaml = 'a:\n  module: log\n  port: "{$PORT:80}"\n';
  for (const name of ['w.yaml', 'w.yml', 'W.YML']) {
    assert.deepEqual(readConfigFile(file(name, yaml)), {
      ok: true,
      data: { a: { module: 'log', port: '{$PORT:80}' } },
    });
  }
  // A file named .json that holds YAML is read as JSON, and fails as JSON.
  assert.match(failure(readConfigFile(file('y.json', yaml))).message, /^invalid JSON at line 1:1/);
});

test('a UTF-8 BOM is accepted; invalid UTF-8 is refused', () => {
  assert.deepEqual(readConfigFile(file('bom.json', '\uFEFF{"a": 1}')), { ok: true, data: { a: 1 } });
  assert.equal(
    failure(readConfigFile(file('bad.json', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))))
      .message,
    'file is not valid UTF-8',
  );
});

test('issues name the file by label, else by base name', () => {
  const path = join(dir, 'missing.json');
  assert.deepEqual(failure(readConfigFile(path)), {
    file: 'missing.json',
    path: [],
    message: `file not found: ${path}`,
  });
  assert.equal(failure(readConfigFile(path, 'webhooks')).file, 'webhooks');
  assert.equal(
    failure(readConfigFile(join(dir, 'no-dir', 'x.json'))).message,
    `file not found: ${join(dir, 'no-dir', 'x.json')}`,
  );
  mkdirSync(join(dir, 'sub.json'));
  assert.equal(
    failure(readConfigFile(join(dir, 'sub.json'))).message,
    `not a regular file: ${join(dir, 'sub.json')}`,
  );
});

test('JSON syntax errors report line:column', () => {
  const cases: [string, string][] = [
    ['{\n  "a": 1,\n  "b": }\n', "invalid JSON at line 3:8: unexpected '}'"],
    ['{\n  "a": 1\n  "b": 2\n}', "invalid JSON at line 3:3: unexpected '\"', expected ',' or '}'"],
    ['{"a": [1, 2,]}', 'invalid JSON at line 1:13: trailing comma before ]'],
    ['{"a": 1,\n}', 'invalid JSON at line 2:1: trailing comma before }'],
    ["{'a': 1}", "invalid JSON at line 1:2: unexpected ''', expected a property name in double quotes"],
    ['{"a": 1} x', "invalid JSON at line 1:10: unexpected 'x' after the end of the JSON value"],
    ['{"a": "x', 'invalid JSON at line 1:7: unterminated string'],
    ['{"a": 01}', "invalid JSON at line 1:8: unexpected '1', expected ',' or '}'"],
    ['{"a": "\\q"}', 'invalid JSON at line 1:8: invalid escape in string'],
    ['', 'invalid JSON at line 1:1: unexpected end of file'],
    ['{"a": tru}', "invalid JSON at line 1:7: unexpected 't'"],
  ];
  for (const [text, message] of cases) {
    assert.deepEqual(
      failure(readConfigFile(file('c.json', text))),
      { file: 'c.json', path: [], message },
      text,
    );
  }
});

test('YAML syntax errors report line:column', () => {
  const issue = failure(readConfigFile(file('c.yaml', 'a:\n  b: [1,\n  c: }\n')));
  assert.equal(issue.file, 'c.yaml');
  assert.match(issue.message, /^invalid YAML at line 3:\d+: [a-z]/);
  assert.doesNotMatch(issue.message, /\n/);
  assert.match(
    failure(readConfigFile(file('m.yaml', 'a: 1\n---\nb: 2\n'))).message,
    /^invalid YAML at line 2:1: /,
  );
  assert.match(failure(readConfigFile(file('alias.yaml', 'a: *nowhere\n'))).message, /^invalid YAML/);
});

test('duplicate keys are refused in JSON (with their path) and YAML', () => {
  const json = '{\n  "a": {"module": "log"},\n  "b": {"x": 1, "y": {"k": 1, "\\u006b": 2}}\n}';
  assert.deepEqual(failure(readConfigFile(file('w.json', json))), {
    file: 'w.json',
    path: ['b', 'y', 'k'],
    message: 'duplicate key at line 3:31 (first at line 3:23)',
  });
  const top = '{"stripe": {}, "other": [], "stripe": {"module": "log"}}';
  assert.deepEqual(failure(readConfigFile(file('t.json', top))).path, ['stripe']);
  const inArray = '{"x": {"chain": [{"m": 1}, {"m": 1, "m": 2}]}}';
  assert.deepEqual(failure(readConfigFile(file('a.json', inArray))).path, ['x', 'chain', 1, 'm']);
  // Equal keys in different objects are fine.
  assert.equal(readConfigFile(file('ok.json', '{"a": {"k": 1}, "b": {"k": 1}}')).ok, true);

  const yaml = 'stripe:\n  module: log\nother: {}\nstripe:\n  module: http\n';
  assert.deepEqual(failure(readConfigFile(file('w.yaml', yaml))), {
    file: 'w.yaml',
    path: [],
    message: 'duplicate key at line 4:1',
  });
});

test('the top level must be an object', () => {
  for (const [name, text] of [
    ['a.json', '[1]'],
    ['s.json', '"x"'],
    ['n.json', 'null'],
    ['e.yaml', ''],
    ['l.yaml', '- a\n'],
    ['s.yml', 'just text\n'],
  ] as const) {
    assert.deepEqual(failure(readConfigFile(file(name, text))), {
      file: name,
      path: [],
      message: 'expected an object at the top level',
    });
  }
});

test('files over 10 MiB are refused before parsing', () => {
  const path = file('big.json', '{}');
  truncateSync(path, MAX_CONFIG_FILE_BYTES + 1);
  assert.equal(
    failure(readConfigFile(path)).message,
    `file is too large: ${MAX_CONFIG_FILE_BYTES + 1} bytes (the limit is 10 MiB)`,
  );
  truncateSync(path, 0);
  writeFileSync(path, `{"a": "${'x'.repeat(1000)}"}`);
  assert.equal(readConfigFile(path).ok, true);
});

test('deep nesting is scanned without recursion', () => {
  const depth = 200_000;
  const text = `{"a": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
  assert.equal(parseConfigText(text, 'json', 'deep.json').ok, true);
  const result = parseConfigText(text.slice(0, -1), 'json', 'deep.json');
  assert.equal(result.ok, false);
  assert.match((result as { ok: false; issue: { message: string } }).issue.message, /unexpected end of file/);
});

// JSON texts and near-JSON texts: the scanner must agree with JSON.parse on what is valid.
const jsonish = fc.oneof(
  fc.json(),
  fc
    .json()
    .chain((text) =>
      fc
        .tuple(
          fc.nat({ max: text.length }),
          fc.constantFrom('', ',', '}', ']', '"', ':', '\\', '0', ' ', 'e', '-', '\n'),
        )
        .map(([at, insert]) => text.slice(0, at) + insert + text.slice(at + (insert === '' ? 1 : 0))),
    ),
  fc.string({
    unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', '-', '.', 'e', 'a', 't', 'n', ' ', '\\'),
  }),
);

test('property: the JSON scanner accepts exactly what JSON.parse accepts (bar duplicate keys)', () => {
  fc.assert(
    fc.property(jsonish, (body) => {
      const text = `{"k": ${body}}`;
      let expected: unknown;
      let valid = true;
      try {
        expected = JSON.parse(text);
      } catch {
        valid = false;
      }
      const result = parseConfigText(text, 'json', 'p.json');
      if (result.ok) {
        assert.ok(valid, `accepted invalid JSON: ${text}`);
        assert.deepEqual(result.data, expected);
      } else if (valid) {
        assert.match(result.issue.message, /^duplicate key at line \d+:\d+ \(first at line \d+:\d+\)$/, text);
      } else {
        // The first problem in text order: a syntax error, or a duplicate key before it.
        assert.match(result.issue.message, /^(invalid JSON at line \d+:\d+: |duplicate key at line )/, text);
      }
    }),
    { numRuns: 2000 },
  );
});

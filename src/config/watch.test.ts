import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigFiles, type ConfigWatcher } from './watch.js';

// Negative checks ("nothing else was reported") use a marker file: events arrive in order, so once the
// marker's change has been reported alone, nothing from before it can still be on its way.

const DEBOUNCE_MS = 150;
const WAIT_MS = 15_000; // generous: a shared machine can be slow; a hang still fails the test

let dir: string;
const open: ConfigWatcher[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wc-watch-'));
});
afterEach(() => {
  for (const watcher of open.splice(0)) watcher.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Records every callback; `next()` waits for the next one not yet taken. */
function recorder() {
  const calls: string[][] = [];
  const waiters: (() => void)[] = [];
  let taken = 0;
  return {
    calls,
    onChange(paths: string[]): void {
      calls.push(paths);
      waiters.splice(0).forEach((wake) => wake());
    },
    async next(): Promise<string[]> {
      const deadline = Date.now() + WAIT_MS;
      while (calls.length <= taken) {
        if (Date.now() > deadline) assert.fail(`no change reported within ${WAIT_MS} ms`);
        await Promise.race([new Promise<void>((wake) => waiters.push(wake)), sleep(100)]);
      }
      return calls[taken++] as string[];
    },
  };
}

function start(
  paths: string[],
  onChange: (paths: string[]) => void,
  debounceMs = DEBOUNCE_MS,
): ConfigWatcher {
  const watcher = watchConfigFiles(paths, { debounceMs, onChange });
  open.push(watcher);
  return watcher;
}

function setup(...names: string[]): string[] {
  return names.map((name) => {
    const path = join(dir, name);
    writeFileSync(path, '{}');
    return path;
  });
}

test('a burst of writes gives one callback; the next change gives another', async () => {
  const [hooks, marker] = setup('my-hooks.json', 'marker.json') as [string, string];
  const rec = recorder();
  start([hooks, marker], rec.onChange);
  writeFileSync(hooks, '{"a": 1}');
  writeFileSync(hooks, '{"a": 2}');
  assert.deepEqual(await rec.next(), [hooks]);
  writeFileSync(marker, '{"m": 1}');
  assert.deepEqual(await rec.next(), [marker]);
  assert.deepEqual(rec.calls, [[hooks], [marker]]);
});

test('files changed in one burst are reported together, in the order given', async () => {
  const other = join(dir, 'sub');
  mkdirSync(other);
  const [a] = setup('a.yaml') as [string];
  const b = join(other, 'b.json');
  writeFileSync(b, '{}');
  const rec = recorder();
  start([a, b, a], rec.onChange);
  writeFileSync(b, '{"x": 1}');
  writeFileSync(a, 'x: 1\n');
  assert.deepEqual(await rec.next(), [a, b]);
});

test('replacing the file by rename is detected', async () => {
  const [hooks, marker] = setup('webhooks.custom.json', 'marker.json') as [string, string];
  const rec = recorder();
  start([hooks, marker], rec.onChange);
  const temp = join(dir, '.webhooks.custom.json.tmp');
  writeFileSync(temp, '{"replaced": true}');
  renameSync(temp, hooks);
  assert.deepEqual(await rec.next(), [hooks]);
  assert.equal(readFileSync(hooks, 'utf8'), '{"replaced": true}');
  writeFileSync(marker, '{"m": 1}');
  assert.deepEqual(await rec.next(), [marker]);
  assert.deepEqual(rec.calls, [[hooks], [marker]]);
});

test('other files in the directory are ignored', async () => {
  const [hooks, marker] = setup('hooks.json', 'marker.json') as [string, string];
  const rec = recorder();
  start([hooks, marker], rec.onChange);
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'other.json'), `{"i": ${i}}`);
  writeFileSync(join(dir, 'webhooks.json'), '{}'); // the reference's hard-coded name means nothing here
  renameSync(join(dir, 'other.json'), join(dir, 'moved.json'));
  unlinkSync(join(dir, 'moved.json'));
  writeFileSync(marker, '{"m": 1}');
  assert.deepEqual(await rec.next(), [marker]);
  assert.deepEqual(rec.calls, [[marker]]);
});

test('a file briefly absent (delete, then re-create) is reported once, present', async () => {
  const [hooks, marker] = setup('hooks.json', 'marker.json') as [string, string];
  const rec = recorder();
  const seen: string[] = [];
  const debounceMs = 300;
  start(
    [hooks, marker],
    (paths) => {
      seen.push(existsSync(hooks) ? readFileSync(hooks, 'utf8') : 'absent');
      rec.onChange(paths);
    },
    debounceMs,
  );
  unlinkSync(hooks);
  await sleep(debounceMs + 50); // past the first debounce: the watcher must wait for the file
  writeFileSync(hooks, '{"back": true}');
  assert.deepEqual(await rec.next(), [hooks]);
  writeFileSync(marker, '{"m": 1}');
  assert.deepEqual(await rec.next(), [marker]);
  assert.deepEqual(rec.calls, [[hooks], [marker]]);
  assert.deepEqual(seen, ['{"back": true}', '{"back": true}']);
});

test('a file that stays deleted is still reported', async () => {
  const [hooks] = setup('hooks.json') as [string];
  const rec = recorder();
  start([hooks], rec.onChange, 50);
  unlinkSync(hooks);
  assert.deepEqual(await rec.next(), [hooks]);
});

test('a Kubernetes-style symlink swap of the data directory is detected', async () => {
  mkdirSync(join(dir, 'v1'));
  mkdirSync(join(dir, 'v2'));
  writeFileSync(join(dir, 'v1', 'hooks.json'), '{"v": 1}');
  writeFileSync(join(dir, 'v2', 'hooks.json'), '{"v": 2}');
  symlinkSync('v1', join(dir, '..data'));
  const hooks = join(dir, 'hooks.json');
  symlinkSync(join('..data', 'hooks.json'), hooks);
  const rec = recorder();
  start([hooks], rec.onChange);
  symlinkSync('v2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  assert.deepEqual(await rec.next(), [hooks]);
  assert.equal(readFileSync(hooks, 'utf8'), '{"v": 2}');
});

test('a directory that does not exist yet is watched once it appears', async () => {
  const later = join(dir, 'later');
  const hooks = join(later, 'hooks.json');
  const rec = recorder();
  start([hooks], rec.onChange, 50);
  await sleep(100);
  mkdirSync(later);
  writeFileSync(hooks, '{}');
  assert.deepEqual(await rec.next(), [hooks]);
});

test('a throwing or rejecting handler does not stop later reports', async () => {
  const [hooks] = setup('hooks.json') as [string];
  const rec = recorder();
  let n = 0;
  start([hooks], (paths) => {
    rec.onChange(paths);
    n += 1;
    if (n === 1) throw new Error('handler failed');
    if (n === 2) return Promise.reject(new Error('async handler failed')) as unknown as void;
  });
  writeFileSync(hooks, '{"n": 1}');
  await rec.next();
  writeFileSync(hooks, '{"n": 2}');
  await rec.next();
  writeFileSync(hooks, '{"n": 3}');
  assert.deepEqual(await rec.next(), [hooks]);
  assert.equal(n, 3);
});

test('close() stops reporting', async () => {
  const [hooks] = setup('hooks.json') as [string];
  const closedRec = recorder();
  const canary = recorder();
  // The closed watcher has the shorter debounce: had it still been running it would report first.
  const closing = start([hooks], closedRec.onChange, 20);
  start([hooks], canary.onChange, 300);
  closing.close();
  closing.close(); // idempotent
  writeFileSync(hooks, '{"after": "close"}');
  assert.deepEqual(await canary.next(), [hooks]);
  assert.deepEqual(closedRec.calls, []);
});

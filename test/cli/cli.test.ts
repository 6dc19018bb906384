import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'wc-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts')];
const baseEnv = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', NODE_ENV: 'production' };

function write(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

const invalid = write('invalid.json', {
  unknown_module: { module: 'no_such_module' },
  unset_var: { module: 'log', hmac: { secret: '{$SURELY_UNSET_VARIABLE}' } },
  wrong_type: { module: 'log', data_type: 42 },
  empty_chain: { chain: [] },
});
const connections = write('connections.json', {});

test('config check and serve list every error with its path and exit 1', () => {
  for (const command of [['config', 'check'], ['serve']]) {
    const result = spawnSync(
      process.execPath,
      [...cli, ...command, '--webhooks', invalid, '--connections', connections],
      {
        env: baseEnv,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(result.status, 1, `${command.join(' ')}: ${result.stderr}`);
    const report = result.stderr;
    assert.match(report, /invalid\.json › unknown_module › module: unknown module 'no_such_module'/);
    assert.match(
      report,
      /invalid\.json › unset_var › hmac\.secret: environment variable SURELY_UNSET_VARIABLE is not set/,
    );
    assert.match(report, /invalid\.json › wrong_type › data_type: /);
    assert.match(report, /invalid\.json › empty_chain › chain: /);
  }
});

test('config check accepts the examples and --version/--help work', () => {
  const check = spawnSync(
    process.execPath,
    [
      ...cli,
      'config',
      'check',
      '--webhooks',
      'examples/webhooks.json',
      '--connections',
      'examples/connections.json',
    ],
    { env: baseEnv, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /configuration is valid: 4 webhook/);
  const version = spawnSync(process.execPath, [...cli, '--version'], { env: baseEnv, encoding: 'utf8' });
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const help = spawnSync(process.execPath, [...cli, '--help'], { env: baseEnv, encoding: 'utf8' });
  assert.match(help.stdout, /webhook-connect serve/);
  const bad = spawnSync(process.execPath, [...cli, 'serve', '--no-such-flag'], {
    env: baseEnv,
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('serve accepts a webhook, reloads on a file change with --watch, keeps serving after a bad edit, stops on SIGTERM', async () => {
  const webhooks = write('serve.json', { hello: { module: 'log' } });
  const args = [
    'serve',
    '--webhooks',
    webhooks,
    '--connections',
    connections,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--watch',
  ];
  const child = spawn(process.execPath, [...cli, ...args], {
    env: { ...baseEnv, CONFIG_RELOAD_DEBOUNCE_SECONDS: '0.2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let port = 0;
    await waitFor(async () => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match !== null) port = Number(match[1]);
      return port !== 0;
    }, `the listening line (output so far: ${output})`);
    const send = (id: string) =>
      fetch(`http://127.0.0.1:${port}/webhook/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"hi":1}',
      });
    assert.equal((await send('hello')).status, 200);
    assert.equal((await send('added_later')).status, 404);

    write('serve.json', { hello: { module: 'log' }, added_later: { module: 'log' } });
    await waitFor(
      async () => (await send('added_later')).status === 200,
      'the watcher to reload the new webhook',
    );

    // A broken edit is refused and the previous configuration keeps serving.
    write('serve.json', { hello: { module: 'no_such_module' } });
    await waitFor(async () => output.includes('reload failed'), 'the failed reload to be logged');
    assert.equal((await send('added_later')).status, 200);

    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from './logger.js';

test('secrets are redacted from structured logs', () => {
  const stream = new PassThrough();
  let output = '';
  stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const logger = createLogger({ level: 'info', destination: stream });
  logger.info(
    {
      headers: { authorization: 'Bearer top-secret-1', 'x-api-key': 'top-secret-2', accept: 'json' },
      connection: { host: 'db', password: 'top-secret-3' },
      module: { channel_token: 'top-secret-4' },
    },
    'something happened',
  );
  assert.match(output, /something happened/);
  assert.match(output, /"accept":"json"/);
  assert.doesNotMatch(output, /top-secret/);
  assert.equal((output.match(/\[REDACTED\]/g) ?? []).length, 4);
});

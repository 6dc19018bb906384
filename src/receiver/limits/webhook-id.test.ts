import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookConnectError } from '../../shared/errors.js';
import {
  isValidNamespace,
  isValidWebhookId,
  validateNamespace,
  validateWebhookId,
  webhookIdProblem,
} from './webhook-id.js';

function rejects(id: string, detail: string | RegExp): void {
  assert.throws(
    () => validateWebhookId(id),
    (error: unknown) => {
      assert.ok(error instanceof WebhookConnectError);
      assert.equal(error.code, 'WC_WEBHOOK_ID_INVALID');
      assert.equal(error.status, 400);
      if (typeof detail === 'string') assert.equal(error.detail, detail);
      else assert.match(error.detail, detail);
      return true;
    },
    id,
  );
  assert.equal(isValidWebhookId(id), false, id);
}

test('ordinary ids are accepted', () => {
  for (const id of [
    'stripe',
    'a',
    'A1',
    'github-push',
    'order_created',
    'x'.repeat(64),
    '0',
    'a-b_c-d',
    'statsx',
  ]) {
    assert.equal(webhookIdProblem(id), undefined, id);
    assert.doesNotThrow(() => validateWebhookId(id));
    assert.equal(isValidWebhookId(id), true);
  }
});

test('empty and whitespace-only ids are rejected', () => {
  rejects('', 'Webhook ID cannot be empty');
  rejects('   ', 'Webhook ID cannot be empty');
});

test('length is limited to 64 characters with the reference message', () => {
  rejects('x'.repeat(65), 'Webhook ID too long: 65 characters (max: 64)');
  rejects('x'.repeat(10_000), 'Webhook ID too long: 10000 characters (max: 64)');
});

test('reserved names are rejected case-insensitively', () => {
  rejects('admin', "Webhook ID 'admin' is reserved and cannot be used");
  rejects('STATS', "Webhook ID 'STATS' is reserved and cannot be used");
  for (const id of [
    'health',
    'docs',
    'openapi.json',
    'redoc',
    'api',
    'root',
    'system',
    'internal',
    'favicon.ico',
    'robots.txt',
  ]) {
    rejects(id, /is reserved and cannot be used$/);
  }
});

test('reserved prefixes and suffixes are rejected', () => {
  rejects('_hidden', "Webhook ID cannot start with reserved prefix '_'");
  rejects('__hidden', "Webhook ID cannot start with reserved prefix '__'");
  rejects('internal_x', /reserved prefix 'internal_'/);
  rejects('System_x', /reserved prefix 'system_'/);
  rejects('admin_panel', /reserved prefix 'admin_'/);
  rejects('x_internal', /reserved suffix '_internal'/);
  rejects('x_system', /reserved suffix '_system'/);
  rejects('x_ADMIN', /reserved suffix '_admin'/);
  // Only the exact prefixes: "administrator" and "internals" are ordinary ids.
  assert.equal(isValidWebhookId('administrator'), true);
  assert.equal(isValidWebhookId('internals'), true);
});

test('consecutive separators and separator-only ids are rejected', () => {
  rejects('a--b', 'Webhook ID cannot contain consecutive underscores or hyphens');
  rejects('a__b', 'Webhook ID cannot contain consecutive underscores or hyphens');
  rejects('-', 'Webhook ID cannot consist only of hyphens and underscores');
  rejects('-_-', 'Webhook ID cannot consist only of hyphens and underscores');
  assert.equal(isValidWebhookId('a-_b'), true); // mixed pair is not "consecutive underscores or hyphens"
});

test('characters outside [A-Za-z0-9_-] and a leading hyphen are rejected without echoing the id', () => {
  for (const id of ['-abc', 'a b', 'a/b', 'a.b', '../etc', 'é', 'a\nb', "a'b", '<script>', 'a%00']) {
    rejects(id, /^Invalid webhook ID format/);
    assert.ok(!webhookIdProblem(id)?.includes(id), id);
  }
});

test('namespaces match ^[a-zA-Z0-9_-]{1,64}$', () => {
  for (const ns of ['default', 'a', 'team-1', 'A_B', 'x'.repeat(64), '_', '--']) {
    assert.equal(isValidNamespace(ns), true, ns);
    assert.doesNotThrow(() => validateNamespace(ns));
  }
  for (const ns of ['', 'x'.repeat(65), 'a b', 'a/b', 'a.b', 'ü', 'a\n']) {
    assert.equal(isValidNamespace(ns), false, ns);
    assert.throws(
      () => validateNamespace(ns),
      (error: unknown) =>
        error instanceof WebhookConnectError &&
        error.code === 'WC_NAMESPACE_INVALID' &&
        error.status === 400 &&
        error.detail === 'Invalid namespace format',
    );
  }
});

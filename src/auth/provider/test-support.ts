/** Shared assertions for the provider preset tests. */
import assert from 'node:assert/strict';
import type { AuthResult } from '../types.js';

export function assertOk(result: AuthResult): void {
  assert.deepEqual(result, { ok: true });
}

export function assertCode(result: AuthResult, code: string, secrets: readonly string[] = []): void {
  assert.equal(result.ok, false, `expected ${code}`);
  if (result.ok) return;
  assert.equal(result.code, code, result.detail);
  for (const secret of secrets) assert.ok(!result.detail.includes(secret), 'detail leaks a secret');
}

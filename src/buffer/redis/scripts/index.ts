/**
 * Every Lua script of the backend, registered on a client with `defineCommand`: ioredis sends EVAL the
 * first time on a connection (which loads it) and EVALSHA after, falling back to EVAL on NOSCRIPT (a
 * restarted Redis), so scripts are never shipped twice per connection.
 */
import type { Redis } from 'ioredis';
import { ACK } from './ack-5.js';
import { APPEND } from './append-5.js';
import { DEAD_LETTERS } from './dead-letters-1.js';
import { DECLARE } from './declare-2.js';
import { EXTEND_LEASE } from './extend-lease-3.js';
import { LEASE } from './lease-9.js';
import type { RedisScript } from './lib.js';
import { NACK } from './nack-9.js';
import { PURGE } from './purge-2.js';
import { RECLAIM } from './reclaim-9.js';
import { RELEASE } from './release-9.js';
import { REPLAY } from './replay-6.js';
import { STATS } from './stats-3.js';

export {
  ACK,
  APPEND,
  DEAD_LETTERS,
  DECLARE,
  EXTEND_LEASE,
  LEASE,
  NACK,
  PURGE,
  RECLAIM,
  RELEASE,
  REPLAY,
  STATS,
};
export type { RedisScript } from './lib.js';

export const SCRIPTS: readonly RedisScript[] = [
  ACK,
  APPEND,
  DEAD_LETTERS,
  DECLARE,
  EXTEND_LEASE,
  LEASE,
  NACK,
  PURGE,
  RECLAIM,
  RELEASE,
  REPLAY,
  STATS,
];

export type ScriptArg = string | number | Buffer;
type ScriptFn = (...args: ScriptArg[]) => Promise<unknown>;

export function defineScripts(client: Redis): void {
  for (const script of SCRIPTS) {
    client.defineCommand(script.name, {
      lua: script.lua,
      numberOfKeys: script.keys,
      ...(script.readOnly === true ? { readOnly: true } : {}),
    });
  }
}

/** Runs a script; string replies come back as strings. */
export function runScript(
  client: Redis,
  script: RedisScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  return call(client, script.name, script, keys, args);
}

/** Runs a script; string replies come back as Buffers (for message bodies). */
export function runScriptBuffer(
  client: Redis,
  script: RedisScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  return call(client, `${script.name}Buffer`, script, keys, args);
}

function call(
  client: Redis,
  method: string,
  script: RedisScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  if (keys.length !== script.keys) {
    return Promise.reject(new Error(`${script.name}: expected ${script.keys} keys, got ${keys.length}`));
  }
  const fn = (client as unknown as Record<string, ScriptFn | undefined>)[method];
  if (fn === undefined) return Promise.reject(new Error(`${script.name}: script not defined on the client`));
  return fn.call(client, ...keys, ...args);
}

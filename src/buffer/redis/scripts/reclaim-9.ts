import { lifecycleScript, type RedisScript } from './lib.js';

/**
 * Expired leases back to the queue (or dead); available messages past their TTL dead as `expired`.
 * KEYS: the nine lifecycle keys. ARGV: the lifecycle block. Returns { released, dead_lettered, expired }.
 */
export const RECLAIM: RedisScript = {
  name: 'wcReclaim9',
  keys: 9,
  lua: lifecycleScript(`
local released, dead, expired = reclaim()
return { released, dead, expired }
`),
};

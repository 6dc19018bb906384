import { plainScript, type RedisScript } from './lib.js';

/**
 * A consistent snapshot of a channel's counts. Leased = PEL entries of relay consumers (the PEL minus
 * the pseudo-consumer's parked entries); available = live (XLEN) − leased.
 * KEYS: stream, dead, meta. Returns { available, leased, dead, expired_total, acked_total }.
 */
export const STATS: RedisScript = {
  name: 'wcStats3',
  keys: 3,
  readOnly: true,
  lua: plainScript(
    'stream = KEYS[1], dead = KEYS[2], meta = KEYS[3]',
    `
local live, leased = redis.call('XLEN', K.stream), 0
if live > 0 then
  local summary = redis.call('XPENDING', K.stream, G)
  for _, c in ipairs(summary[4] or {}) do
    if c[1] ~= AVAILABLE then leased = leased + tonumber(c[2]) end
  end
end
local m = redis.call('HMGET', K.meta, 'expired_total', 'acked_total')
return { live - leased, leased, redis.call('XLEN', K.dead), tonumber(m[1] or '0'), tonumber(m[2] or '0') }
`,
  ),
};

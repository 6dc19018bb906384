import type { RedisScript } from './lib.js';

/**
 * Moves the lease deadline of the messages the consumer owns.
 * KEYS: leased. ARGV: message-hash prefix, consumer, deadline, ids... Returns one outcome per id.
 */
export const EXTEND_LEASE: RedisScript = {
  name: 'wcExtendLease1',
  keys: 1,
  lua: `
local leased, mp, consumer, deadline = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', mp .. id, 'state', 'owner')
  if not f[1] or f[1] == 'dead' then out[#out + 1] = 'not_found'
  elseif f[1] ~= 'leased' then out[#out + 1] = 'not_leased'
  elseif f[2] ~= consumer then out[#out + 1] = 'not_owner'
  else
    redis.call('ZADD', leased, 'XX', deadline, id)
    out[#out + 1] = 'ok'
  end
end
return out
`,
};

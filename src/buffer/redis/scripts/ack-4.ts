import type { RedisScript } from './lib.js';

/**
 * Deletes the leased messages the consumer owns and counts them as acked.
 * KEYS: leased, live, depths, meta. ARGV: message-hash prefix, consumer, ids...
 * Returns one outcome per id: ok, not_found, not_leased or not_owner.
 */
export const ACK: RedisScript = {
  name: 'wcAck4',
  keys: 4,
  lua: `
local leased, live, depths, meta = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mp, consumer = ARGV[1], ARGV[2]
local out, acked = {}, 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local m = mp .. id
  local f = redis.call('HMGET', m, 'state', 'owner', 'webhook_id')
  if not f[1] or f[1] == 'dead' then out[#out + 1] = 'not_found'
  elseif f[1] ~= 'leased' then out[#out + 1] = 'not_leased'
  elseif f[2] ~= consumer then out[#out + 1] = 'not_owner'
  else
    redis.call('DEL', m)
    redis.call('ZREM', leased, id)
    redis.call('ZREM', live, id)
    if redis.call('HINCRBY', depths, f[3], -1) <= 0 then redis.call('HDEL', depths, f[3]) end
    acked = acked + 1
    out[#out + 1] = 'ok'
  end
end
if acked > 0 then redis.call('HINCRBY', meta, 'acked_total', acked) end
return out
`,
};

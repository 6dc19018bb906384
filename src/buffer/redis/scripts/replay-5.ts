import type { RedisScript } from './lib.js';

/**
 * Dead letters back to the queue, due now, with delivery_count 0 and a fresh TTL (not subject to
 * max_queue_size).
 * KEYS: ready, expiry, dead, live, depths. ARGV: message-hash prefix, now, ttl_ms, limit, ids...
 * (no ids: the oldest `limit` dead letters). Returns how many were replayed.
 */
export const REPLAY: RedisScript = {
  name: 'wcReplay5',
  keys: 5,
  lua: `
local ready, expiry, dead, live, depths = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local mp, now, ttl, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ids = {}
if #ARGV < 5 then
  ids = redis.call('ZRANGE', dead, 0, limit - 1)
else
  for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local replayed = 0
for _, id in ipairs(ids) do
  local seq = redis.call('ZSCORE', dead, id)
  if seq then
    local m = mp .. id
    redis.call('HSET', m, 'state', 'available', 'delivery_count', 0, 'expires_at', now + ttl)
    redis.call('HDEL', m, 'reason', 'last_error', 'dead_at')
    redis.call('ZREM', dead, id)
    redis.call('ZADD', ready, seq, id)
    redis.call('ZADD', expiry, now + ttl, id)
    redis.call('ZADD', live, seq, id)
    redis.call('HINCRBY', depths, redis.call('HGET', m, 'webhook_id'), 1)
    replayed = replayed + 1
  end
end
return replayed
`,
};

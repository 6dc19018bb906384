import { lifecycleScript, type RedisScript } from './lib.js';

/**
 * A consumer's leases back to the queue. Counted (connection lost): as a failed delivery. Not counted
 * (our shutdown): available at once with the delivery_count increment undone.
 * KEYS: the eight lifecycle keys. ARGV: lifecycle block, then consumer, count_attempt (1/0), ids...
 * (no ids: every message the consumer holds, oldest first).
 * Returns { id, outcome[, state] } per id.
 */
export const RELEASE: RedisScript = {
  name: 'wcRelease8',
  keys: 8,
  lua: lifecycleScript(`
local consumer, counted = ARGV[A], ARGV[A + 1] == '1'
local ids = {}
if #ARGV < A + 2 then
  local owned = {}
  for _, id in ipairs(redis.call('ZRANGE', K.leased, 0, -1)) do
    local f = redis.call('HMGET', MP .. id, 'owner', 'seq')
    if f[1] == consumer then owned[#owned + 1] = { tonumber(f[2]), id } end
  end
  table.sort(owned, function(a, b) return a[1] < b[1] end)
  for i, pair in ipairs(owned) do ids[i] = pair[2] end
else
  for i = A + 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local out = {}
for _, id in ipairs(ids) do
  local outcome = ownership(id, consumer)
  if outcome ~= 'ok' then
    out[#out + 1] = { id, outcome }
  elseif counted then
    out[#out + 1] = { id, 'ok', fail_delivery(id, nil, false) }
  else
    local m = MP .. id
    local f = redis.call('HMGET', m, 'delivery_count', 'seq', 'expires_at')
    local n = tonumber(f[1]) - 1
    if n < 0 then n = 0 end
    redis.call('HSET', m, 'delivery_count', n)
    make_available(id, f[2], NOW, tonumber(f[3]))
    out[#out + 1] = { id, 'ok', 'available' }
  end
end
return out
`),
};

import { lifecycleScript, type RedisScript } from './lib.js';

/**
 * Reclaims, promotes due retries, then leases up to `max` ready messages oldest first (an ordered
 * channel: only the head of `live`, and only when it is ready). A candidate past its TTL (beyond one
 * sweep's worth) is dead-lettered instead of leased.
 * KEYS: the eight lifecycle keys. ARGV: lifecycle block, then consumer, max, lease_ms, ordered (1/0).
 * Returns one array per leased message: id, webhook_id, data, body, received_at, expires_at,
 * delivery_count.
 */
export const LEASE: RedisScript = {
  name: 'wcLease8',
  keys: 8,
  lua: lifecycleScript(`
local consumer, max, deadline = ARGV[A], tonumber(ARGV[A + 1]), NOW + tonumber(ARGV[A + 2])
reclaim()
promote_due()
local ids = {}
if max >= 1 then
  if ARGV[A + 3] == '1' then
    local head = redis.call('ZRANGE', K.live, 0, 0)[1]
    if head and redis.call('ZSCORE', K.ready, head) then ids = { head } end
  else
    ids = redis.call('ZRANGE', K.ready, 0, max - 1)
  end
end
local out = {}
local expired = 0
for _, id in ipairs(ids) do
  local m = MP .. id
  local f = redis.call('HMGET', m, 'webhook_id', 'data', 'body', 'received_at', 'expires_at')
  if tonumber(f[5]) <= NOW then
    make_dead(id, 'expired', false)
    expired = expired + 1
  else
    local n = redis.call('HINCRBY', m, 'delivery_count', 1)
    redis.call('HSET', m, 'state', 'leased', 'owner', consumer)
    redis.call('ZREM', K.ready, id)
    redis.call('ZREM', K.expiry, id)
    redis.call('ZADD', K.leased, deadline, id)
    out[#out + 1] = { id, f[1], f[2], f[3], f[4], f[5], n }
  end
end
if expired > 0 then redis.call('HINCRBY', K.meta, 'expired_total', expired) end
return out
`),
};

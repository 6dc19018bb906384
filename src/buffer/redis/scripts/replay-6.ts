import { plainScript, type RedisScript } from './lib.js';

/**
 * Dead letters back to the live stream as new entries (so delivery_count starts at 0 again), due now,
 * with a fresh TTL (not subject to max_queue_size); their dead-letter entries are deleted.
 * KEYS: stream, dead, ids, dead_ids, ttl, depths. ARGV: now, ttl_ms, limit, ids... (no ids: the oldest
 * `limit` dead letters). Returns how many were replayed.
 */
export const REPLAY: RedisScript = {
  name: 'wcReplay6',
  keys: 6,
  lua: plainScript(
    'stream = KEYS[1], dead = KEYS[2], ids = KEYS[3], dead_ids = KEYS[4], ttl = KEYS[5], depths = KEYS[6]',
    `
local expires_at = int(tonumber(ARGV[1]) + tonumber(ARGV[2]))
ensure_stream()
local targets = {}
if #ARGV < 4 then
  for _, e in ipairs(redis.call('XRANGE', K.dead, '-', '+', 'COUNT', tonumber(ARGV[3]))) do
    targets[#targets + 1] = e[1]
  end
else
  for i = 4, #ARGV do
    local dsid = redis.call('HGET', K.dead_ids, ARGV[i])
    if dsid then targets[#targets + 1] = dsid end
  end
end
local replayed = 0
for _, dsid in ipairs(targets) do
  local e = redis.call('XRANGE', K.dead, dsid, dsid)[1]
  if e then
    local m = field_map(e[2])
    local sid = redis.call('XADD', K.stream, '*', 'id', m.id, 'webhook_id', m.webhook_id, 'data', m.data,
      'body', m.body, 'received_at', m.received_at, 'expires_at', expires_at)
    redis.call('HSET', K.ids, m.id, sid .. ' ' .. m.webhook_id)
    redis.call('HDEL', K.dead_ids, m.id)
    redis.call('XDEL', K.dead, dsid)
    redis.call('ZADD', K.ttl, expires_at, sid)
    redis.call('HINCRBY', K.depths, m.webhook_id, 1)
    replayed = replayed + 1
  end
end
return replayed
`,
  ),
};

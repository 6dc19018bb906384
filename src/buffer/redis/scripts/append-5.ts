import { plainScript, type RedisScript } from './lib.js';

/** ARGV entries per message of the append script. */
export const APPEND_ARGS_PER_MESSAGE = 7;

/**
 * Stores a batch of messages, each as one stream entry (new: not in the PEL, delivered by the next
 * `XREADGROUP … >`), unless its id exists (live or dead) or its webhook's queue is full.
 * KEYS: stream, ids, dead_ids, ttl, depths.
 * ARGV: per message id, webhook_id, data (JSON), body (bytes), received_at, expires_at, max_queue_size.
 * Returns per message 1 (stored), -1 (duplicate id) or -2 (queue full), in order.
 */
export const APPEND: RedisScript = {
  name: 'wcAppend5',
  keys: 5,
  lua: plainScript(
    'stream = KEYS[1], ids = KEYS[2], dead_ids = KEYS[3], ttl = KEYS[4], depths = KEYS[5]',
    `
ensure_stream()
local out = {}
for i = 1, #ARGV, ${APPEND_ARGS_PER_MESSAGE} do
  local id, webhook = ARGV[i], ARGV[i + 1]
  if redis.call('HEXISTS', K.ids, id) == 1 or redis.call('HEXISTS', K.dead_ids, id) == 1 then
    out[#out + 1] = -1
  elseif tonumber(redis.call('HGET', K.depths, webhook) or '0') >= tonumber(ARGV[i + 6]) then
    out[#out + 1] = -2
  else
    local sid = redis.call('XADD', K.stream, '*', 'id', id, 'webhook_id', webhook, 'data', ARGV[i + 2],
      'body', ARGV[i + 3], 'received_at', ARGV[i + 4], 'expires_at', ARGV[i + 5])
    redis.call('HSET', K.ids, id, sid .. ' ' .. webhook)
    redis.call('ZADD', K.ttl, ARGV[i + 5], sid)
    redis.call('HINCRBY', K.depths, webhook, 1)
    out[#out + 1] = 1
  end
end
return out
`,
  ),
};

import type { RedisScript } from './lib.js';

/**
 * Stores one message unless its id exists (live or dead) or its webhook's queue is full.
 * KEYS: ready, delayed, expiry, live, depths, meta, message hash.
 * ARGV: id, webhook_id, data (JSON), body (bytes), received_at, expires_at, max_queue_size, now.
 * Returns the message's seq, -1 for a duplicate id, -2 for a full queue.
 */
export const APPEND: RedisScript = {
  name: 'wcAppend7',
  keys: 7,
  lua: `
local ready, delayed, expiry, live, depths, meta, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local id, webhook = ARGV[1], ARGV[2]
if redis.call('EXISTS', m) == 1 then return -1 end
if tonumber(redis.call('HGET', depths, webhook) or '0') >= tonumber(ARGV[7]) then return -2 end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('HSET', m, 'webhook_id', webhook, 'data', ARGV[3], 'body', ARGV[4], 'received_at', ARGV[5],
  'expires_at', ARGV[6], 'delivery_count', 0, 'state', 'available', 'seq', seq)
if tonumber(ARGV[5]) > tonumber(ARGV[8]) then
  redis.call('ZADD', delayed, ARGV[5], id)
else
  redis.call('ZADD', ready, seq, id)
end
redis.call('ZADD', expiry, ARGV[6], id)
redis.call('ZADD', live, seq, id)
redis.call('HINCRBY', depths, webhook, 1)
return seq
`,
};

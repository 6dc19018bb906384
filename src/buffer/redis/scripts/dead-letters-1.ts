import type { RedisScript } from './lib.js';

/**
 * Dead letters oldest first (by append order).
 * KEYS: dead. ARGV: message-hash prefix, offset, limit.
 * Returns one array per dead letter: id, webhook_id, data, body, received_at, expires_at,
 * delivery_count, reason, last_error (nil when none), dead_at.
 */
export const DEAD_LETTERS: RedisScript = {
  name: 'wcDeadLetters1',
  keys: 1,
  readOnly: true,
  lua: `
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
if limit < 1 then return out end
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], offset, offset + limit - 1)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'webhook_id', 'data', 'body', 'received_at', 'expires_at',
    'delivery_count', 'reason', 'last_error', 'dead_at')
  if f[1] then out[#out + 1] = { id, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9] } end
end
return out
`,
};

import { plainScript, type RedisScript } from './lib.js';

/**
 * Dead letters oldest first (in the order they died).
 * KEYS: dead. ARGV: offset, limit.
 * Returns one array per dead letter: id, webhook_id, data, body, received_at, expires_at,
 * delivery_count, reason, last_error (nil when none), dead_at.
 */
export const DEAD_LETTERS: RedisScript = {
  name: 'wcDeadLetters1',
  keys: 1,
  readOnly: true,
  lua: plainScript(
    'dead = KEYS[1]',
    `
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
if limit < 1 then return out end
local entries = redis.call('XRANGE', K.dead, '-', '+', 'COUNT', offset + limit)
for i = offset + 1, #entries do
  local m = field_map(entries[i][2])
  out[#out + 1] = { m.id, m.webhook_id, m.data, m.body, m.received_at, m.expires_at, m.delivery_count,
    m.reason, m.last_error or false, m.dead_at }
end
return out
`,
  ),
};

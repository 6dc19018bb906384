import { plainScript, type RedisScript } from './lib.js';

/**
 * Deletes dead letters (XDEL). KEYS: dead, dead_ids. ARGV: limit, ids... (no ids: the oldest `limit`).
 * Returns how many were deleted.
 */
export const PURGE: RedisScript = {
  name: 'wcPurge2',
  keys: 2,
  lua: plainScript(
    'dead = KEYS[1], dead_ids = KEYS[2]',
    `
local purged = 0
if #ARGV < 2 then
  for _, e in ipairs(redis.call('XRANGE', K.dead, '-', '+', 'COUNT', tonumber(ARGV[1]))) do
    redis.call('XDEL', K.dead, e[1])
    redis.call('HDEL', K.dead_ids, field_map(e[2]).id)
    purged = purged + 1
  end
else
  for i = 2, #ARGV do
    local dsid = redis.call('HGET', K.dead_ids, ARGV[i])
    if dsid then
      redis.call('XDEL', K.dead, dsid)
      redis.call('HDEL', K.dead_ids, ARGV[i])
      purged = purged + 1
    end
  end
end
return purged
`,
  ),
};

import type { RedisScript } from './lib.js';

/**
 * Deletes dead letters. KEYS: dead. ARGV: message-hash prefix, limit, ids... (no ids: the oldest
 * `limit`). Returns how many were deleted.
 */
export const PURGE: RedisScript = {
  name: 'wcPurge1',
  keys: 1,
  lua: `
local dead, mp, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
local ids = {}
if #ARGV < 3 then
  ids = redis.call('ZRANGE', dead, 0, limit - 1)
else
  for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local purged = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', dead, id) == 1 then
    redis.call('DEL', mp .. id)
    purged = purged + 1
  end
end
return purged
`,
};

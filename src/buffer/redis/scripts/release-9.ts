import { lifecycleScript, type RedisScript } from './lib.js';

/**
 * A consumer's leases back to the queue. Counted (connection lost): as a failed delivery. Not counted
 * (our shutdown): parked, available at once, with the PEL delivery counter decremented. A consumer left
 * holding nothing is deleted from the group.
 * KEYS: the nine lifecycle keys. ARGV: lifecycle block, then PEL consumer name, count_attempt (1/0),
 * ids... (no ids: every entry in the consumer's PEL, oldest first).
 * Returns { id, outcome[, state] } per id.
 */
export const RELEASE: RedisScript = {
  name: 'wcRelease9',
  keys: 9,
  lua: lifecycleScript(`
local consumer, counted = ARGV[A], ARGV[A + 1] == '1'
local targets = {}
if #ARGV < A + 2 then
  for _, row in ipairs(redis.call('XPENDING', K.stream, G, '-', '+', 1000000, consumer)) do
    local f = entry(row[1])
    if f then targets[#targets + 1] = { f[1], 'ok', row[1], row[4] } end
  end
else
  for i = A + 2, #ARGV do
    local outcome, sid, _, count = ownership(ARGV[i], consumer)
    targets[#targets + 1] = { ARGV[i], outcome, sid, count }
  end
end
local out = {}
for _, t in ipairs(targets) do
  local id, outcome, sid, count = t[1], t[2], t[3], t[4]
  if outcome ~= 'ok' then
    out[#out + 1] = { id, outcome }
  elseif counted then
    out[#out + 1] = { id, 'ok', fail_delivery(sid, count, nil, false) }
  else
    local n = count - 1
    if n < 0 then n = 0 end
    park(sid, NOW, n, entry(sid)[6])
    out[#out + 1] = { id, 'ok', 'available' }
  end
end
if #redis.call('XPENDING', K.stream, G, '-', '+', 1, consumer) == 0 then
  redis.call('XGROUP', 'DELCONSUMER', K.stream, G, consumer)
end
return out
`),
};

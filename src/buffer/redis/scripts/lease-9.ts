import { lifecycleScript, type RedisScript } from './lib.js';

/**
 * Reclaims, then leases up to `max` messages oldest first: parked entries that are due (XCLAIM from the
 * pseudo-consumer, which counts the delivery), then new entries (`XREADGROUP … >`, delivery_count 1).
 * The lease deadline becomes the PEL delivery time. An ordered channel leases only the first stream
 * entry, when it is new or parked and due. A new entry past its TTL is dead-lettered instead; one
 * received after `now` is parked until its receive time.
 * KEYS: the nine lifecycle keys. ARGV: lifecycle block, then PEL consumer name, max, lease_ms,
 * ordered (1/0).
 * Returns one array per leased message: id, webhook_id, data, body, received_at, expires_at,
 * delivery_count.
 */
export const LEASE: RedisScript = {
  name: 'wcLease9',
  keys: 9,
  lua: lifecycleScript(`
local consumer, max, ordered = ARGV[A], tonumber(ARGV[A + 1]), ARGV[A + 3] == '1'
local deadline = NOW + tonumber(ARGV[A + 2])
reclaim()
local out, expired = {}, 0

local function leased(sid, f, count)
  redis.call('ZREM', K.ttl, sid)
  out[#out + 1] = { f[1], f[2], f[3], f[4], f[5], f[6], count }
end

-- Parked PEL rows to the consumer; XCLAIM without JUSTID returns the entries and counts the delivery.
local function take_parked(rows)
  local counts = {}
  for _, row in ipairs(rows) do counts[row[1]] = row[4] end
  for i = 1, #rows, CHUNK do
    local args = { 'XCLAIM', K.stream, G, consumer, 0 }
    for j = i, math.min(i + CHUNK - 1, #rows) do args[#args + 1] = rows[j][1] end
    args[#args + 1] = 'TIME'
    args[#args + 1] = pel_time(deadline)
    for _, e in ipairs(redis.call(unpack(args))) do
      if e then
        local f = live_fields(e[2])
        if tonumber(f[6]) <= NOW then
          make_dead(e[1], f, counts[e[1]], 'expired', false)
          expired = expired + 1
        else
          leased(e[1], f, counts[e[1]] + 1)
        end
      end
    end
  end
end

local function read_new(n)
  local r = redis.call('XREADGROUP', 'GROUP', G, consumer, 'COUNT', n, 'STREAMS', K.stream, '>')
  if not r then return {} end
  return r[1][2]
end

-- New entries, just delivered by XREADGROUP: leased (deadline set by XCLAIM JUSTID, which keeps the
-- count at 1), dead when past their TTL, parked when received after now.
local function take_new(entries)
  local claim = {}
  for _, e in ipairs(entries) do
    local f = live_fields(e[2])
    if tonumber(f[6]) <= NOW then
      make_dead(e[1], f, 0, 'expired', false)
      expired = expired + 1
    elseif tonumber(f[5]) > NOW then
      park(e[1], tonumber(f[5]), 0, f[6])
    else
      claim[#claim + 1] = e[1]
      leased(e[1], f, 1)
    end
  end
  if #claim > 0 then
    for i = 1, #claim, CHUNK do
      local args = { 'XCLAIM', K.stream, G, consumer, 0 }
      for j = i, math.min(i + CHUNK - 1, #claim) do args[#args + 1] = claim[j] end
      args[#args + 1] = 'TIME'
      args[#args + 1] = pel_time(deadline)
      args[#args + 1] = 'JUSTID'
      redis.call(unpack(args))
    end
  end
end

if max >= 1 then
  if ordered then
    local head = redis.call('XRANGE', K.stream, '-', '+', 'COUNT', 1)[1]
    if head then
      local p = pel(head[1])
      if not p then
        take_new(read_new(1))
      elseif p[2] == AVAILABLE then
        take_parked(due(head[1], head[1], 1, AVAILABLE, NOW))
      end
    end
  else
    take_parked(due('-', '+', max, AVAILABLE, NOW))
    while #out < max do
      local entries = read_new(math.min(max - #out, CHUNK))
      if #entries == 0 then break end
      take_new(entries)
    end
  end
end
if expired > 0 then redis.call('HINCRBY', K.meta, 'expired_total', expired) end
return out
`),
};

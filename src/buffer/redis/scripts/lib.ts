/**
 * Lua shared by the scripts. Every script declares its keys as a table `K` (field names as in
 * `lifecycleKeys`) and then includes `COMMON`; the lease-lifecycle scripts are built with
 * `lifecycleScript`, which takes the nine lifecycle keys and starts ARGV with the lifecycle block:
 *
 * ```
 * ARGV[1] now (epoch ms, the buffer's clock)   ARGV[2] max_delivery_attempts
 * ARGV[3] n, ARGV[4 .. 3+n]     retry delays in ms for delivery_count 1..n (the last one repeats)
 * ARGV[4+n ..]                  the script's own arguments (`A` is the index of the first)
 * ```
 *
 * ## Times in the PEL
 *
 * A pending entry's delivery time holds the buffer-clock time `t` that matters for it (the lease deadline,
 * or when a parked entry becomes available) as `t − OFFSET`, set with `XCLAIM … TIME`. Redis replaces a
 * TIME in its future by its own now, hence the shift of OFFSET (10^12 ms, about 31.7 years) into the past;
 * `pel_time` refuses a time the shift does not bring into Redis's past instead of storing a wrong one.
 *
 * Redis reports a pending entry only as its idle time, its own now minus the delivery time, so reading
 * "due by the buffer clock" needs Redis's now exactly as the PEL commands see it. Redis 7.0 samples its
 * clock afresh in every command, also within one script (7.2 and later freeze it per script), so neither
 * a TIME call nor an earlier XPENDING tells which millisecond a later XPENDING used. The channel's `clock`
 * stream answers that: its single entry is pending since time 0, so its idle time *is* the PEL's now.
 * `due` reads the clock, runs `XPENDING … IDLE (clock − (at − OFFSET))`, and reads the clock again; equal
 * readings mean the XPENDING ran in that millisecond and its answer is exact (else it retries, and after
 * three unlucky tries keeps only the entries due by the later reading: never early, at worst a
 * millisecond late). Every decision therefore follows the injected clock exactly, and Redis's clock only
 * has to stay within OFFSET of it.
 */

/** Most entries one sweep (expired leases per consumer, TTL) handles per call, to keep scripts short. */
export const SWEEP_LIMIT = 1000;

/** Name of the consumer group on every channel stream. */
export const GROUP = 'relay';

/** The pseudo-consumer owning delivered entries that are available again (parked). */
export const PARKED_CONSUMER = 'available';

/** PEL consumer name of a relay consumer id: prefixed, so no id can name the pseudo-consumer. */
export function pelConsumer(consumerId: string): string {
  return `c:${consumerId}`;
}

/** Shift of every time stored as a PEL delivery time (see the header). */
export const PEL_TIME_OFFSET = 1_000_000_000_000;

/** Constants and helpers every script may use; they read the keys from `K`. */
export const COMMON = `
local G, AVAILABLE, OFFSET = '${GROUP}', '${PARKED_CONSUMER}', ${PEL_TIME_OFFSET}
local SWEEP, CHUNK = ${SWEEP_LIMIT}, 500

local function int(n) return string.format('%d', n) end

-- A live entry's fields as written by append and replay, in this order: id, webhook_id, data, body,
-- received_at, expires_at.
local function live_fields(f) return { f[2], f[4], f[6], f[8], f[10], f[12] } end

local function field_map(f)
  local m = {}
  for i = 1, #f, 2 do m[f[i]] = f[i + 1] end
  return m
end

-- Runs cmd (a table of leading arguments) with items appended, CHUNK items per call.
local function chunked(cmd, items)
  for i = 1, #items, CHUNK do
    local args = { unpack(cmd) }
    for j = i, math.min(i + CHUNK - 1, #items) do args[#args + 1] = items[j] end
    redis.call(unpack(args))
  end
end

-- Live message id → its stream entry id and webhook id (nil when not live).
local function lookup(id)
  local v = redis.call('HGET', K.ids, id)
  if not v then return nil end
  local sp = string.find(v, ' ', 1, true)
  return string.sub(v, 1, sp - 1), string.sub(v, sp + 1)
end

-- The fields of a live entry (nil when gone).
local function entry(sid)
  local e = redis.call('XRANGE', K.stream, sid, sid)[1]
  if e then return live_fields(e[2]) end
  return nil
end

-- The PEL row { sid, consumer, idle, delivery_count } of an entry; nil when never delivered.
local function pel(sid) return redis.call('XPENDING', K.stream, G, sid, sid, 1)[1] end

-- Whether consumer (a PEL consumer name) may settle id: 'ok', sid, webhook, delivery_count; or why not.
local function ownership(id, consumer)
  local sid, webhook = lookup(id)
  if not sid then return 'not_found' end
  local p = pel(sid)
  if not p or p[2] == AVAILABLE then return 'not_leased' end
  if p[2] ~= consumer then return 'not_owner' end
  return 'ok', sid, webhook, p[4]
end

local function decr_depth(webhook, n)
  if redis.call('HINCRBY', K.depths, webhook, -n) <= 0 then redis.call('HDEL', K.depths, webhook) end
end

-- The stream and its group exist (a Redis that lost its data heals here, not only at ensureChannel).
local function ensure_stream()
  if redis.call('EXISTS', K.stream) == 0 then
    redis.call('XGROUP', 'CREATE', K.stream, G, '0', 'MKSTREAM')
  end
end

-- The clock stream: one entry, pending for consumer 'clock' since time 0.
local function ensure_clock()
  if redis.call('EXISTS', K.clock) == 1 then return end
  redis.call('XADD', K.clock, '0-1', 'pending_since', '0')
  redis.call('XGROUP', 'CREATE', K.clock, G, '0')
  redis.call('XREADGROUP', 'GROUP', G, 'clock', 'COUNT', 1, 'STREAMS', K.clock, '>')
  redis.call('XCLAIM', K.clock, G, 'clock', 0, '0-1', 'TIME', 0, 'JUSTID')
end

-- The PEL's now, last reading.
local CLOCK = false
local function read_clock()
  CLOCK = redis.call('XPENDING', K.clock, G, '-', '+', 1)[1][3]
  return CLOCK
end

-- The PEL delivery time that stores buffer time t.
local function pel_time(t)
  local v = t - OFFSET
  if v < 0 or v > (CLOCK or read_clock()) then
    error('redis buffer: time ' .. int(t) .. ' is not within ' .. int(OFFSET) .. ' ms of Redis clock')
  end
  return int(v)
end

-- PEL rows of consumer between first and last (stream ids), oldest first, at most count, whose stored
-- time is at or before buffer time at (see "Times in the PEL").
local function due(first, last, count, consumer, at)
  local target = at - OFFSET
  local rows
  for _ = 1, 3 do
    local before = CLOCK or read_clock()
    local idle = before - target
    if idle < 0 then idle = 0 end
    rows = redis.call('XPENDING', K.stream, G, 'IDLE', int(idle), first, last, count, consumer)
    if read_clock() == before then return rows end
  end
  local kept = {}
  for _, row in ipairs(rows) do
    if row[3] >= CLOCK - target then kept[#kept + 1] = row end
  end
  return kept
end

-- A live message leaves the stream: acked and deleted (never trimmed), so XLEN stays the live depth.
local function remove_live(sid, id, webhook)
  redis.call('XACK', K.stream, G, sid)
  redis.call('XDEL', K.stream, sid)
  redis.call('ZREM', K.ttl, sid)
  redis.call('HDEL', K.ids, id)
  redis.call('HDEL', K.errors, id)
  decr_depth(webhook, 1)
end
`;

const LIFECYCLE = `
local K = { stream = KEYS[1], dead = KEYS[2], ids = KEYS[3], dead_ids = KEYS[4], ttl = KEYS[5],
  depths = KEYS[6], meta = KEYS[7], errors = KEYS[8], clock = KEYS[9] }
local NOW = tonumber(ARGV[1])
local MAX_ATTEMPTS = tonumber(ARGV[2])
local NDELAYS = tonumber(ARGV[3])
local DELAYS = {}
for i = 1, NDELAYS do DELAYS[i] = tonumber(ARGV[3 + i]) end
local A = 4 + NDELAYS
${COMMON}
ensure_stream()
ensure_clock()

-- A live message (fields f) to the dead-letter stream. err false keeps the last reported error.
local function make_dead(sid, f, count, reason, err)
  local last = err or redis.call('HGET', K.errors, f[1])
  local args = { 'XADD', K.dead, '*', 'id', f[1], 'webhook_id', f[2], 'data', f[3], 'body', f[4],
    'received_at', f[5], 'expires_at', f[6], 'delivery_count', count, 'reason', reason,
    'dead_at', int(NOW) }
  if last then
    args[#args + 1] = 'last_error'
    args[#args + 1] = last
  end
  redis.call('HSET', K.dead_ids, f[1], redis.call(unpack(args)))
  remove_live(sid, f[1], f[2])
end

-- A delivered entry becomes available at buffer time at: parked with the pseudo-consumer, its
-- delivery_count set to count (nil: unchanged), back in the TTL index.
local function park(sid, at, count, expires_at)
  if count then
    redis.call('XCLAIM', K.stream, G, AVAILABLE, 0, sid, 'TIME', pel_time(at), 'RETRYCOUNT', count, 'JUSTID')
  else
    redis.call('XCLAIM', K.stream, G, AVAILABLE, 0, sid, 'TIME', pel_time(at), 'JUSTID')
  end
  redis.call('ZADD', K.ttl, expires_at, sid)
end

-- A leased entry whose delivery failed: dead when its attempts are used, else available after delay_ms
-- (nil: the channel's backoff for its delivery_count). Returns 'available' or 'dead'.
local function fail_delivery(sid, count, delay_ms, err)
  local f = entry(sid)
  if count >= MAX_ATTEMPTS then
    make_dead(sid, f, count, 'max_delivery_attempts', err)
    return 'dead'
  end
  if err then redis.call('HSET', K.errors, f[1], err) end
  if delay_ms == nil then delay_ms = DELAYS[count] or DELAYS[NDELAYS] or 0 end
  park(sid, NOW + delay_ms, nil, f[6])
  return 'available'
end

-- Consumers of the group: { name, pending } each.
local function consumers()
  local out = {}
  for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', K.stream, G)) do
    local m = field_map(info)
    out[#out + 1] = { m.name, m.pending }
  end
  return out
end

-- Expired leases back to the queue (or dead); available messages past their TTL dead as 'expired'.
-- Consumers left holding nothing are deleted from the group.
local function reclaim()
  local released, dead, expired = 0, 0, 0
  for _, c in ipairs(consumers()) do
    local name, pending = c[1], c[2]
    if pending == 0 then
      redis.call('XGROUP', 'DELCONSUMER', K.stream, G, name)
    elseif name ~= AVAILABLE then
      local rows = due('-', '+', SWEEP, name, NOW)
      for _, row in ipairs(rows) do
        if fail_delivery(row[1], row[4], nil, false) == 'dead' then dead = dead + 1
        else released = released + 1 end
      end
      if #rows == pending then redis.call('XGROUP', 'DELCONSUMER', K.stream, G, name) end
    end
  end
  for _, sid in ipairs(redis.call('ZRANGEBYSCORE', K.ttl, '-inf', int(NOW), 'LIMIT', 0, SWEEP)) do
    local f = entry(sid)
    if f then
      local p = pel(sid)
      make_dead(sid, f, p and p[4] or 0, 'expired', false)
      expired = expired + 1
    else
      redis.call('ZREM', K.ttl, sid)
    end
  end
  if expired > 0 then redis.call('HINCRBY', K.meta, 'expired_total', expired) end
  return released, dead, expired
end
`;

/** A script over the nine lifecycle keys: the lifecycle prelude, then `body`. */
export function lifecycleScript(body: string): string {
  return `${LIFECYCLE}\n${body}`;
}

/** A script over its own keys: `keys` is the Lua table constructor body for `K`. */
export function plainScript(keys: string, body: string): string {
  return `local K = { ${keys} }\n${COMMON}\n${body}`;
}

/** A Lua script registered with ioredis (`defineCommand`): EVALSHA, loaded on first use per connection. */
export interface RedisScript {
  /** Command name on the client; ends with the key count, like the file name. */
  readonly name: string;
  readonly keys: number;
  readonly lua: string;
  readonly readOnly?: boolean;
}

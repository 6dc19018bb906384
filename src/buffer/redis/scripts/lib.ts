/**
 * Lua shared by the lease-lifecycle scripts. A script built with `lifecycleScript` takes the eight
 * channel keys of `lifecycleKeys` and starts its ARGV with the lifecycle block:
 *
 * ```
 * ARGV[1] message-hash prefix   ARGV[2] now (epoch ms, the buffer's clock)   ARGV[3] max_delivery_attempts
 * ARGV[4] n, ARGV[5 .. 4+n]     retry delays in ms for delivery_count 1..n (the last one repeats)
 * ARGV[5+n ..]                  the script's own arguments (`A` is the index of the first)
 * ```
 *
 * Every time decision uses `NOW` from ARGV, never Redis's clock, so an injected clock drives leases,
 * backoff and TTL exactly. The backoff delays are computed in TypeScript by lifecycle.ts and passed in.
 */

/** Most entries one sweep (expired leases, TTL, due retries) handles per call, to keep scripts short. */
export const SWEEP_LIMIT = 1000;

const PRELUDE = `
local K = { ready = KEYS[1], delayed = KEYS[2], leased = KEYS[3], expiry = KEYS[4], dead = KEYS[5],
  live = KEYS[6], depths = KEYS[7], meta = KEYS[8] }
local MP = ARGV[1]
local NOW = tonumber(ARGV[2])
local MAX_ATTEMPTS = tonumber(ARGV[3])
local NDELAYS = tonumber(ARGV[4])
local DELAYS = {}
for i = 1, NDELAYS do DELAYS[i] = tonumber(ARGV[4 + i]) end
local A = 5 + NDELAYS
local SWEEP = ${SWEEP_LIMIT}

local function decr_depth(webhook)
  if redis.call('HINCRBY', K.depths, webhook, -1) <= 0 then redis.call('HDEL', K.depths, webhook) end
end

-- Whether consumer may settle id: 'ok', or why not.
local function ownership(id, consumer)
  local f = redis.call('HMGET', MP .. id, 'state', 'owner')
  if not f[1] or f[1] == 'dead' then return 'not_found' end
  if f[1] ~= 'leased' then return 'not_leased' end
  if f[2] ~= consumer then return 'not_owner' end
  return 'ok'
end

-- A live message (available or leased) to the dead-letter queue. err false keeps the last error.
local function make_dead(id, reason, err)
  local m = MP .. id
  local f = redis.call('HMGET', m, 'webhook_id', 'seq')
  redis.call('HSET', m, 'state', 'dead', 'reason', reason, 'dead_at', NOW)
  if err then redis.call('HSET', m, 'last_error', err) end
  redis.call('HDEL', m, 'owner')
  redis.call('ZREM', K.ready, id)
  redis.call('ZREM', K.delayed, id)
  redis.call('ZREM', K.leased, id)
  redis.call('ZREM', K.expiry, id)
  redis.call('ZREM', K.live, id)
  redis.call('ZADD', K.dead, f[2], id)
  decr_depth(f[1])
end

-- A leased message back to available: due at once (ready) or after a backoff (delayed).
local function make_available(id, seq, at, expires_at)
  local m = MP .. id
  redis.call('HSET', m, 'state', 'available')
  redis.call('HDEL', m, 'owner')
  redis.call('ZREM', K.leased, id)
  if at <= NOW then redis.call('ZADD', K.ready, seq, id) else redis.call('ZADD', K.delayed, at, id) end
  redis.call('ZADD', K.expiry, expires_at, id)
end

-- A leased message whose delivery failed: dead when its attempts are used, else available after
-- delay_ms (nil: the channel's backoff for its delivery_count). Returns 'available' or 'dead'.
local function fail_delivery(id, delay_ms, err)
  local m = MP .. id
  local f = redis.call('HMGET', m, 'delivery_count', 'seq', 'expires_at')
  local n = tonumber(f[1])
  if n >= MAX_ATTEMPTS then
    make_dead(id, 'max_delivery_attempts', err)
    return 'dead'
  end
  if err then redis.call('HSET', m, 'last_error', err) end
  if delay_ms == nil then delay_ms = DELAYS[n] or DELAYS[NDELAYS] or 0 end
  make_available(id, f[2], NOW + delay_ms, tonumber(f[3]))
  return 'available'
end

-- Expired leases back to the queue (or dead); available messages past their TTL dead as 'expired'.
local function reclaim()
  local released, dead, expired = 0, 0, 0
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.leased, '-inf', NOW, 'LIMIT', 0, SWEEP)) do
    if fail_delivery(id, nil, false) == 'dead' then dead = dead + 1 else released = released + 1 end
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.expiry, '-inf', NOW, 'LIMIT', 0, SWEEP)) do
    make_dead(id, 'expired', false)
    expired = expired + 1
  end
  if expired > 0 then redis.call('HINCRBY', K.meta, 'expired_total', expired) end
  return released, dead, expired
end

-- Retries whose backoff has passed: delayed → ready (back at their FIFO position).
local function promote_due()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.delayed, '-inf', NOW, 'LIMIT', 0, SWEEP)) do
    redis.call('ZADD', K.ready, redis.call('HGET', MP .. id, 'seq'), id)
    redis.call('ZREM', K.delayed, id)
  end
end
`;

/** A script over the eight lifecycle keys: the shared prelude, then `body`. */
export function lifecycleScript(body: string): string {
  return `${PRELUDE}\n${body}`;
}

/** A Lua script registered with ioredis (`defineCommand`): EVALSHA, loaded on first use per connection. */
export interface RedisScript {
  /** Command name on the client; ends with the key count, like the file name. */
  readonly name: string;
  readonly keys: number;
  readonly lua: string;
  readonly readOnly?: boolean;
}

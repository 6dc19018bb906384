import { lifecycleScript, type RedisScript } from './lib.js';

/**
 * One leased message back: retry (parked until the backoff or `delay_ms` has passed, dead when its
 * attempts are used) or dead letter with the reason.
 * KEYS: the nine lifecycle keys. ARGV: lifecycle block, then PEL consumer name, id, retry (1/0), delay_ms
 * ('' for the channel backoff), has_error (1/0), error text.
 * Returns { outcome } or { 'ok', 'available' | 'dead' }.
 */
export const NACK: RedisScript = {
  name: 'wcNack9',
  keys: 9,
  lua: lifecycleScript(`
local consumer, id = ARGV[A], ARGV[A + 1]
local delay_ms = nil
if ARGV[A + 3] ~= '' then delay_ms = tonumber(ARGV[A + 3]) end
local err = false
if ARGV[A + 4] == '1' then err = ARGV[A + 5] end
local outcome, sid, _, count = ownership(id, consumer)
if outcome ~= 'ok' then return { outcome } end
if ARGV[A + 2] ~= '1' then
  make_dead(sid, entry(sid), count, err or 'rejected', err)
  return { 'ok', 'dead' }
end
return { 'ok', fail_delivery(sid, count, delay_ms, err) }
`),
};

import { lifecycleScript, type RedisScript } from './lib.js';

/**
 * One leased message back: retry (available after the backoff or `delay_ms`, dead when its attempts are
 * used) or dead letter with the reason.
 * KEYS: the eight lifecycle keys. ARGV: lifecycle block, then consumer, id, retry (1/0), delay_ms (''
 * for the channel backoff), has_error (1/0), error text.
 * Returns { outcome } or { 'ok', 'available' | 'dead' }.
 */
export const NACK: RedisScript = {
  name: 'wcNack8',
  keys: 8,
  lua: lifecycleScript(`
local consumer, id = ARGV[A], ARGV[A + 1]
local delay_ms = nil
if ARGV[A + 3] ~= '' then delay_ms = tonumber(ARGV[A + 3]) end
local err = false
if ARGV[A + 4] == '1' then err = ARGV[A + 5] end
local outcome = ownership(id, consumer)
if outcome ~= 'ok' then return { outcome } end
if ARGV[A + 2] ~= '1' then
  make_dead(id, err or 'rejected', err)
  return { 'ok', 'dead' }
end
return { 'ok', fail_delivery(id, delay_ms, err) }
`),
};

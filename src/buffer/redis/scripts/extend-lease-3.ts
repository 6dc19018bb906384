import { plainScript, type RedisScript } from './lib.js';

/**
 * Moves the lease deadline (the PEL delivery time) of the entries the consumer owns.
 * KEYS: stream, ids, clock. ARGV: PEL consumer name, deadline, ids... Returns one outcome per id.
 */
export const EXTEND_LEASE: RedisScript = {
  name: 'wcExtendLease3',
  keys: 3,
  lua: plainScript(
    'stream = KEYS[1], ids = KEYS[2], clock = KEYS[3]',
    `
local consumer, deadline = ARGV[1], tonumber(ARGV[2])
ensure_clock()
local out = {}
for i = 3, #ARGV do
  local outcome, sid = ownership(ARGV[i], consumer)
  if outcome == 'ok' then
    redis.call('XCLAIM', K.stream, G, consumer, 0, sid, 'TIME', pel_time(deadline), 'JUSTID')
  end
  out[#out + 1] = outcome
end
return out
`,
  ),
};

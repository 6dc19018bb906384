import { plainScript, type RedisScript } from './lib.js';

/**
 * Acks the leases the consumer owns: XACK + XDEL (the stream keeps only live entries), counted.
 * KEYS: stream, ids, depths, meta, errors. ARGV: PEL consumer name, ids...
 * Returns one outcome per id: ok, not_found, not_leased or not_owner.
 */
export const ACK: RedisScript = {
  name: 'wcAck5',
  keys: 5,
  lua: plainScript(
    'stream = KEYS[1], ids = KEYS[2], depths = KEYS[3], meta = KEYS[4], errors = KEYS[5]',
    `
local consumer = ARGV[1]
local out, sids, ids, seen, per_webhook = {}, {}, {}, {}, {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local outcome, sid, webhook = ownership(id, consumer)
  if outcome == 'ok' and seen[id] then outcome = 'not_found' end
  if outcome == 'ok' then
    seen[id] = true
    sids[#sids + 1] = sid
    ids[#ids + 1] = id
    per_webhook[webhook] = (per_webhook[webhook] or 0) + 1
  end
  out[#out + 1] = outcome
end
if #sids > 0 then
  chunked({ 'XACK', K.stream, G }, sids)
  chunked({ 'XDEL', K.stream }, sids)
  chunked({ 'HDEL', K.ids }, ids)
  chunked({ 'HDEL', K.errors }, ids)
  for webhook, n in pairs(per_webhook) do decr_depth(webhook, n) end
  redis.call('HINCRBY', K.meta, 'acked_total', #sids)
end
return out
`,
  ),
};

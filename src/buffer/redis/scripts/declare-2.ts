import { plainScript, type RedisScript } from './lib.js';

/**
 * Creates a channel's stream with its consumer group and the PEL clock, if missing (ensureChannel; the
 * other scripts do the same lazily). KEYS: stream, clock. Returns 1.
 */
export const DECLARE: RedisScript = {
  name: 'wcDeclare2',
  keys: 2,
  lua: plainScript(
    'stream = KEYS[1], clock = KEYS[2]',
    `
ensure_stream()
ensure_clock()
return 1
`,
  ),
};

import { randomBytes } from 'node:crypto';

// Ids come from a pool of random bytes refilled 4 KiB at a time: one randomBytes call per 512 ids
// instead of one per append (a synchronous call that showed up in the append profile).
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = POOL_BYTES;

/** A new message id: `msg_` + 16 lowercase hex characters (the reference's format). */
export function newMessageId(): string {
  if (offset + 8 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const id = `msg_${pool.toString('hex', offset, offset + 8)}`;
  offset += 8;
  return id;
}

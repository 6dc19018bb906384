import { randomBytes } from 'node:crypto';

/** A new message id: `msg_` + 16 lowercase hex characters (the reference's format). */
export function newMessageId(): string {
  return `msg_${randomBytes(8).toString('hex')}`;
}

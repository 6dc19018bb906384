import type { SettleOutcome } from '../../types.js';
import type { OwnerRow } from '../rows.js';

/** Whether `consumerId` may settle this row (`ok`) or why not. */
export function ownership(row: OwnerRow | undefined, consumerId: string): SettleOutcome {
  if (row === undefined || row.state === 'dead') return 'not_found';
  if (row.state !== 'leased') return 'not_leased';
  return row.lease_owner === consumerId ? 'ok' : 'not_owner';
}

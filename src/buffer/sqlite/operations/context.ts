import type { ChannelSettings } from '../../types.js';
import type { Statements } from '../statements.js';

/** What every operation gets: the prepared statements, the channel, its settings and the clock reading. */
export interface OpContext {
  readonly st: Statements;
  readonly channel: string;
  readonly settings: ChannelSettings;
  readonly now: number;
}

import type { Statements } from '../statements.js';

export function getChannelState(st: Statements, channel: string): unknown {
  const json = st.getState.get(channel);
  return json === undefined ? null : (JSON.parse(json) as unknown);
}

export function setChannelState(st: Statements, channel: string, state: unknown, now: number): void {
  st.setState.run(channel, JSON.stringify(state ?? null), now);
}

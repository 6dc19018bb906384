/**
 * Channel tokens and their rotation. The configured `channel_token` is the token until an admin rotates
 * it; a rotation is stored in the buffer's channel state (shared by every instance on the store, and not
 * undone by a reload) as SHA-256 digests only — the new token is shown once, in the rotate response.
 * When the configured token changes after a rotation (an operator edited webhooks.json), the
 * configuration wins again: the rotation records the digest of the configured token it replaced.
 */
import { createHash, randomBytes } from 'node:crypto';
import { safeEqual } from '../shared/timing-safe.js';

/** What is stored per channel (`MessageBuffer.setChannelState`). */
export interface TokenRotation {
  readonly token_sha256: string;
  /** The token before the rotation, valid until `previous_expires_at` (epoch ms). */
  readonly previous_sha256: string | null;
  readonly previous_expires_at: number | null;
  readonly rotated_at: number;
  /** Digest of the configured token this rotation replaced. */
  readonly config_token_sha256: string;
}

export interface ChannelState {
  readonly rotation?: TokenRotation;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A new token: `ch_tok_` + 48 lowercase hex characters (the reference's format). */
export function newChannelToken(): string {
  return `ch_tok_${randomBytes(24).toString('hex')}`;
}

export function parseChannelState(value: unknown): ChannelState {
  if (value === null || typeof value !== 'object') return {};
  const rotation = (value as { rotation?: unknown }).rotation;
  if (rotation === null || typeof rotation !== 'object') return {};
  const r = rotation as Record<string, unknown>;
  if (typeof r.token_sha256 !== 'string' || typeof r.config_token_sha256 !== 'string') return {};
  return {
    rotation: {
      token_sha256: r.token_sha256,
      previous_sha256: typeof r.previous_sha256 === 'string' ? r.previous_sha256 : null,
      previous_expires_at: typeof r.previous_expires_at === 'number' ? r.previous_expires_at : null,
      rotated_at: typeof r.rotated_at === 'number' ? r.rotated_at : 0,
      config_token_sha256: r.config_token_sha256,
    },
  };
}

/** The rotation that applies to `configToken`, or undefined when the configured token is current. */
export function activeRotation(state: ChannelState, configToken: string): TokenRotation | undefined {
  const rotation = state.rotation;
  return rotation !== undefined && safeEqual(rotation.config_token_sha256, sha256(configToken))
    ? rotation
    : undefined;
}

/** Whether `presented` is the current token, or the previous one within its grace period. */
export function tokenValid(
  presented: string,
  configToken: string,
  state: ChannelState,
  now: number,
): boolean {
  if (presented === '') return false;
  const rotation = activeRotation(state, configToken);
  if (rotation === undefined) return safeEqual(presented, configToken);
  const digest = sha256(presented);
  const current = safeEqual(digest, rotation.token_sha256);
  const previous =
    rotation.previous_sha256 !== null &&
    rotation.previous_expires_at !== null &&
    now < rotation.previous_expires_at &&
    safeEqual(digest, rotation.previous_sha256);
  return current || previous;
}

/** A rotation away from the current token (configured or rotated) with `graceSeconds` for the old one. */
export function rotate(
  state: ChannelState,
  configToken: string,
  graceSeconds: number,
  now: number,
): { token: string; rotation: TokenRotation } {
  const token = newChannelToken();
  const current = activeRotation(state, configToken)?.token_sha256 ?? sha256(configToken);
  return {
    token,
    rotation: {
      token_sha256: sha256(token),
      previous_sha256: graceSeconds > 0 ? current : null,
      previous_expires_at: graceSeconds > 0 ? now + graceSeconds * 1000 : null,
      rotated_at: now,
      config_token_sha256: sha256(configToken),
    },
  };
}

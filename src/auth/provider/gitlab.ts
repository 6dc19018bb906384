/** GitLab: `X-Gitlab-Token` carries the configured secret token verbatim. */
import { safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthVerifier } from '../types.js';
import type { GitlabConfig } from './schema.js';

export const gitlabHeaders = ['x-gitlab-token'];

export function createGitlab(config: GitlabConfig): AuthVerifier {
  const tokens = toList(config.secret);
  return (request) => {
    const value = request.headers['x-gitlab-token'];
    if (value === undefined || value === '')
      return authFailure('WC_AUTH_MISSING', 'Missing X-Gitlab-Token header');
    let match = false;
    for (const token of tokens) if (safeEqual(token, value)) match = true;
    return match ? AUTH_OK : authFailure('WC_AUTH_MISMATCH', 'Invalid GitLab token');
  };
}

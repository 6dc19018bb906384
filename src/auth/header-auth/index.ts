/** `header_auth`: the configured header must carry one of the configured API keys (no trimming). */
import { safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod } from '../types.js';
import { headerAuthSchema, type HeaderAuthConfig } from './schema.js';

export const headerAuthMethod: AuthMethod<HeaderAuthConfig> = {
  type: 'header_auth',
  schema: headerAuthSchema,
  credentialHeaders: (config) => [config.header_name.toLowerCase()],
  secretFields: ['api_key'],
  create(config) {
    const header = config.header_name.toLowerCase();
    const fold = config.case_sensitive ? (value: string) => value : (value: string) => value.toLowerCase();
    const keys = toList(config.api_key).map(fold);
    return (request) => {
      const value = request.headers[header];
      if (value === undefined) {
        return authFailure('WC_AUTH_MISSING', `Missing required header: ${config.header_name}`);
      }
      if (value.trim() === '') {
        return authFailure('WC_AUTH_MALFORMED', `Invalid API key in header: ${config.header_name}`);
      }
      const received = fold(value);
      let match = false;
      for (const key of keys) if (safeEqual(key, received)) match = true;
      return match
        ? AUTH_OK
        : authFailure('WC_AUTH_MISMATCH', `Invalid API key in header: ${config.header_name}`);
    };
  },
};

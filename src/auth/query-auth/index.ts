/**
 * `query_auth`: the configured query parameter must carry one of the configured API keys. With a repeated
 * parameter the last value counts (the reference's rule). Values with control characters or longer than
 * 1000 characters are malformed (the reference silently stripped control characters).
 */
import { safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod } from '../types.js';
import { queryAuthSchema, type QueryAuthConfig } from './schema.js';

const MAX_LENGTH = 1000;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const queryAuthMethod: AuthMethod<QueryAuthConfig> = {
  type: 'query_auth',
  schema: queryAuthSchema,
  credentialHeaders: () => [],
  secretFields: ['api_key'],
  create(config) {
    const name = config.parameter_name;
    const fold = config.case_sensitive ? (value: string) => value : (value: string) => value.toLowerCase();
    const keys = toList(config.api_key).map(fold);
    return (request) => {
      const raw = request.query[name];
      const value = Array.isArray(raw) ? raw[raw.length - 1] : (raw as string | undefined);
      if (value === undefined)
        return authFailure('WC_AUTH_MISSING', `Missing required query parameter: ${name}`);
      if (value.length > MAX_LENGTH || CONTROL.test(value)) {
        return authFailure(
          'WC_AUTH_MALFORMED',
          `Invalid query parameter value for: ${name} (too long or contains invalid characters)`,
        );
      }
      if (value.trim() === '')
        return authFailure('WC_AUTH_MALFORMED', `Invalid API key in query parameter: ${name}`);
      const received = fold(value);
      let match = false;
      for (const key of keys) if (safeEqual(key, received)) match = true;
      return match ? AUTH_OK : authFailure('WC_AUTH_MISMATCH', `Invalid API key in query parameter: ${name}`);
    };
  },
};

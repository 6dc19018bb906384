/**
 * `authorization`: the request's `Authorization` header must equal a configured value. When the
 * configured value is `Bearer <token>`, the header must use exactly the `Bearer ` scheme with a single
 * space and a non-blank token (reference §3.1); trailing whitespace of both tokens is ignored.
 */
import { safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod } from '../types.js';
import { authorizationSchema, type AuthorizationConfig } from './schema.js';

const MAX_HEADER_LENGTH = 8192;
const FORBIDDEN = /[\r\n\0]/;

interface Expected {
  readonly bearer: boolean;
  readonly value: string;
}

function prepare(configured: string): Expected {
  const trimmed = configured.trim();
  if (configured.startsWith('Bearer ')) return { bearer: true, value: configured.slice(7).trimEnd() };
  return { bearer: false, value: trimmed };
}

export const authorizationMethod: AuthMethod<AuthorizationConfig> = {
  type: 'authorization',
  schema: authorizationSchema,
  credentialHeaders: () => ['authorization'],
  secretFields: ['authorization'],
  create(config) {
    const expected = toList(config).map(prepare);
    const anyBearer = expected.some((entry) => entry.bearer);
    return (request) => {
      const header = request.headers.authorization;
      if (header === undefined || header.trim() === '') {
        return authFailure('WC_AUTH_MISSING', 'Missing Authorization header');
      }
      if (FORBIDDEN.test(header)) {
        return authFailure('WC_AUTH_MALFORMED', 'Invalid header format: contains forbidden character');
      }
      if (header.length > MAX_HEADER_LENGTH) {
        return authFailure(
          'WC_AUTH_MALFORMED',
          `Header too long: ${header.length} characters (max: ${MAX_HEADER_LENGTH})`,
        );
      }
      const received = header.trim();
      let bearerToken: string | undefined;
      if (received.startsWith('Bearer ')) {
        const token = received.slice(7);
        if (token.trim() === '') {
          return authFailure('WC_AUTH_MALFORMED', 'Invalid Bearer token format: token cannot be empty');
        }
        if (/^\s/.test(token)) {
          return authFailure(
            'WC_AUTH_MALFORMED',
            'Invalid Bearer token format: token cannot start with whitespace',
          );
        }
        bearerToken = token.trimEnd();
      } else if (anyBearer && expected.every((entry) => entry.bearer)) {
        return authFailure('WC_AUTH_MALFORMED', "Invalid Bearer token format: must start with 'Bearer '");
      }
      let match = false;
      for (const entry of expected) {
        const candidate = entry.bearer ? bearerToken : received;
        // Compare every entry (no early exit), each in constant time.
        if (candidate !== undefined && safeEqual(entry.value, candidate)) match = true;
      }
      return match ? AUTH_OK : authFailure('WC_AUTH_MISMATCH', 'Unauthorized');
    };
  },
};

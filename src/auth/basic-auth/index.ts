/**
 * `basic_auth`: RFC 7617 Basic credentials, parsed strictly as the reference does (§3.2): the scheme is
 * `Basic` followed by one space and standard base64; the decoded text is UTF-8 (Latin-1 fallback) and
 * splits on the first colon. User name and password are both compared in constant time, always.
 */
import { safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod } from '../types.js';
import { basicAuthSchema, type BasicAuthConfig } from './schema.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(credentials: string): string {
  const bytes = Buffer.from(credentials, 'base64');
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export const basicAuthMethod: AuthMethod<BasicAuthConfig> = {
  type: 'basic_auth',
  schema: basicAuthSchema,
  credentialHeaders: () => ['authorization'],
  secretFields: ['password'],
  create(config) {
    const username = config.username;
    const passwords = toList(config.password);
    const challenge = `Basic realm=${quote(config.realm)}, charset="UTF-8"`;
    const fail = (code: 'WC_AUTH_MISSING' | 'WC_AUTH_MALFORMED' | 'WC_AUTH_MISMATCH', detail: string) =>
      authFailure(code, detail, challenge);
    return (request) => {
      const header = request.headers.authorization;
      if (header === undefined || header === '')
        return fail('WC_AUTH_MISSING', 'Missing Authorization header');
      if (!header.startsWith('Basic')) return fail('WC_AUTH_MALFORMED', 'Basic authentication required');
      const rest = header.slice(5);
      if (rest === '' || rest.trim() === '') {
        return fail('WC_AUTH_MALFORMED', 'Invalid Basic authentication format: missing credentials');
      }
      if (!rest.startsWith(' ') || rest.startsWith('  ')) {
        return fail('WC_AUTH_MALFORMED', 'Invalid Basic authentication format');
      }
      const encoded = rest.slice(1);
      if (encoded.trim() !== encoded) {
        return fail('WC_AUTH_MALFORMED', 'Invalid base64 encoding: whitespace not allowed');
      }
      if (!BASE64.test(encoded) || encoded.length % 4 === 1) {
        return fail('WC_AUTH_MALFORMED', 'Invalid base64 encoding format');
      }
      const decoded = decode(encoded);
      const colon = decoded.indexOf(':');
      if (colon === -1) return fail('WC_AUTH_MALFORMED', 'Invalid basic auth format');
      const userOk = safeEqual(username, decoded.slice(0, colon));
      const password = decoded.slice(colon + 1);
      let passwordOk = false;
      for (const candidate of passwords) if (safeEqual(candidate, password)) passwordOk = true;
      return userOk && passwordOk ? AUTH_OK : fail('WC_AUTH_MISMATCH', 'Invalid credentials');
    };
  },
};

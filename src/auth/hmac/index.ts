/**
 * `hmac`: verifies `HMAC(secret, signed content)` carried in a header. The signed content is the raw body,
 * or — with `timestamp_header` — a template such as `{timestamp}.{body}`, and then the timestamp must lie
 * within `tolerance_seconds` (replay protection). Signatures are decoded (hex or base64) and compared as
 * bytes in constant time against the digest of every configured secret.
 */
import { digestEqualsAny } from '../../shared/timing-safe.js';
import { checkTimestamp, decodeBase64, decodeHex, hmac } from '../signing.js';
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod } from '../types.js';
import { hmacSchema, type HmacConfig } from './schema.js';

export const hmacMethod: AuthMethod<HmacConfig> = {
  type: 'hmac',
  schema: hmacSchema,
  credentialHeaders: (config) => [config.header.toLowerCase()],
  secretFields: ['secret'],
  create(config, context) {
    const secrets = toList(config.secret).map((secret) => Buffer.from(secret, 'utf8'));
    const header = config.header.toLowerCase();
    const timestampHeader = config.timestamp_header?.toLowerCase();
    const decode = config.encoding === 'hex' ? decodeHex : decodeBase64;
    const optionalPrefix = `${config.algorithm}=`;
    const template = config.signed_payload ?? '{timestamp}.{body}';
    const [before = '', after = ''] = template.split('{body}');
    const formatName = config.encoding === 'hex' ? 'hexadecimal' : 'base64';

    return (request) => {
      const value = request.headers[header];
      if (value === undefined || value === '') {
        return authFailure('WC_AUTH_MISSING', `Missing ${config.header} header`);
      }
      let encoded = value;
      if (config.prefix !== undefined) {
        if (!value.startsWith(config.prefix)) {
          return authFailure(
            'WC_AUTH_MALFORMED',
            `Invalid HMAC signature format (expected prefix ${config.prefix})`,
          );
        }
        encoded = value.slice(config.prefix.length);
      } else if (value.toLowerCase().startsWith(optionalPrefix)) {
        encoded = value.slice(optionalPrefix.length);
      }
      const signature = decode(encoded);
      if (signature === undefined) {
        return authFailure('WC_AUTH_MALFORMED', `Invalid HMAC signature format (must be ${formatName})`);
      }

      let parts: (string | Buffer)[] = [request.rawBody];
      let timestampExpired = false;
      if (timestampHeader !== undefined) {
        const timestamp = request.headers[timestampHeader];
        if (timestamp === undefined || timestamp === '') {
          return authFailure('WC_AUTH_MISSING', `Missing ${config.timestamp_header} header`);
        }
        const check = checkTimestamp(timestamp, context.now(), config.tolerance_seconds);
        if (!check.ok && check.reason === 'malformed') {
          return authFailure(
            'WC_AUTH_MALFORMED',
            `Invalid ${config.timestamp_header} header (Unix seconds expected)`,
          );
        }
        timestampExpired = !check.ok;
        parts = [before.replace('{timestamp}', timestamp), request.rawBody, after];
      }

      const expected = secrets.map((secret) => hmac(config.algorithm, secret, parts));
      if (!digestEqualsAny(expected, signature))
        return authFailure('WC_AUTH_MISMATCH', 'Invalid HMAC signature');
      // Checked after the signature, so EXPIRED always means "genuine but too old" (or a skewed clock).
      if (timestampExpired) {
        return authFailure(
          'WC_AUTH_EXPIRED',
          `Timestamp outside the tolerance window of ${config.tolerance_seconds}s`,
        );
      }
      return AUTH_OK;
    };
  },
};

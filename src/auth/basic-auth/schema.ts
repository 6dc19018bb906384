import { z } from 'zod';
import { requiredString } from '../../shared/config-fields.js';
import { secretList } from '../fields.js';

/** `basic_auth`: HTTP Basic credentials. `{}` or a missing field is a config error (fail closed). */
export const basicAuthSchema = z.strictObject({
  /** Expected user name (case-sensitive). Required. */
  username: requiredString(),
  /** Expected password, or a list of accepted passwords for rotation. Required. */
  password: secretList(),
  /** Realm named in the `WWW-Authenticate: Basic` challenge. Default `Webhook API`. */
  realm: z.string().default('Webhook API'),
});

export type BasicAuthConfig = z.infer<typeof basicAuthSchema>;

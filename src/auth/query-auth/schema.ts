import { z } from 'zod';
import { boolLike } from '../../shared/config-fields.js';
import { secretList } from '../fields.js';

/** `query_auth`: an API key in a query parameter. `{}` or a blank key is a config error. */
export const queryAuthSchema = z.strictObject({
  /** Query parameter carrying the key (`[A-Za-z0-9_.-]`, at most 100). Default `api_key`. */
  parameter_name: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{1,100}$/, { message: 'must be 1-100 characters of letters, digits, _ . -' })
    .default('api_key'),
  /** The expected key, or a list of accepted keys for rotation. Required. */
  api_key: secretList(),
  /** Compare case-sensitively. Default **true** (the reference defaulted to false). */
  case_sensitive: boolLike().default(true),
});

export type QueryAuthConfig = z.infer<typeof queryAuthSchema>;

import { z } from 'zod';
import { boolLike } from '../../shared/config-fields.js';
import { headerName, secretList } from '../fields.js';

/** `header_auth`: an API key in a request header. `{}` or a blank key is a config error. */
export const headerAuthSchema = z.strictObject({
  /** Header carrying the key. Default `X-API-Key`. */
  header_name: headerName().default('X-API-Key'),
  /** The expected key, or a list of accepted keys for rotation. Required. */
  api_key: secretList(),
  /**
   * Compare case-sensitively. Default **true** (the reference defaulted to false, which discards entropy;
   * set false only for senders that change the key's case).
   */
  case_sensitive: boolLike().default(true),
});

export type HeaderAuthConfig = z.infer<typeof headerAuthSchema>;

import type { z } from 'zod';
import { secretList } from '../fields.js';

/**
 * `"authorization": "<expected header value>"` — the whole expected `Authorization` value, e.g.
 * `"Bearer s3cr3t"`, or a list of accepted values for rotation. Blank is refused (the reference
 * treated it as "no auth").
 */
export const authorizationSchema = secretList();

export type AuthorizationConfig = z.infer<typeof authorizationSchema>;

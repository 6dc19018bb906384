/** Input limits of the receiver (reference spec §8.4): path ids, headers, body charset, JSON shape. */
export {
  MAX_WEBHOOK_ID_LENGTH,
  RESERVED_WEBHOOK_IDS,
  isValidNamespace,
  isValidWebhookId,
  validateNamespace,
  validateWebhookId,
  webhookIdProblem,
} from './webhook-id.js';
export { DEFAULT_HEADER_LIMITS, checkHeaders, type HeaderLimits } from './headers.js';
export {
  DEFAULT_JSON_LIMITS,
  checkJsonDepthBeforeParse,
  checkJsonLimits,
  scanJsonDepth,
  type JsonLimits,
} from './json.js';
export { declaredCharset, decodeBody, type SupportedCharset } from './charset.js';
export { parseJsonBody } from './json-body.js';

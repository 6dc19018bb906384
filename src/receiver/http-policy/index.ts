/** HTTP policy applied to every response: security headers and CORS (reference spec §1.7). */
export {
  DEFAULT_CSP,
  DEFAULT_HSTS_MAX_AGE,
  DOCS_CSP,
  MAX_HSTS_MAX_AGE,
  clampHstsMaxAge,
  compileSecurityHeaders,
  cspPolicyProblem,
  isHttpsRequest,
  securityHeaders,
  type SecurityHeadersConfig,
  type SecurityHeadersFn,
  type SecurityHeadersRequest,
} from './security-headers.js';
export {
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  CORS_MAX_AGE_SECONDS,
  corsHeaders,
  parseCorsOrigins,
  type CorsOrigins,
  type CorsRejection,
} from './cors.js';

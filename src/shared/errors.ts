/**
 * The error catalogue: every coded error the product can answer with, its HTTP status and a safe public
 * message. Codes are stable: a retired code is never reused. `docs/errors.md` is generated from this table
 * (`npm run docs:errors`) and a test keeps the two in step.
 *
 * A `WebhookConnectError` carries a code, an optional request-specific `detail` (never a secret) and an
 * optional `cause` that goes to logs only.
 */

export interface ErrorSpec {
  /** HTTP status the error maps to. */
  readonly status: number;
  /** Safe, generic description; used as `detail` when the thrower gives none. */
  readonly message: string;
}

export const ERROR_CATALOGUE = {
  // --- request routing and input limits -------------------------------------------------------
  WC_WEBHOOK_ID_INVALID: { status: 400, message: 'Invalid webhook id' },
  WC_NAMESPACE_INVALID: { status: 400, message: 'Invalid namespace format' },
  WC_WEBHOOK_NOT_FOUND: { status: 404, message: 'Webhook ID not found' },
  WC_HEADERS_INVALID: { status: 400, message: 'Invalid request headers' },
  WC_HEADERS_TOO_LARGE: { status: 431, message: 'Request headers too large' },
  WC_BODY_TOO_LARGE: { status: 413, message: 'Payload too large' },
  WC_BODY_READ_FAILED: { status: 400, message: 'Failed to read request body' },
  WC_JSON_MALFORMED: { status: 400, message: 'Malformed JSON payload' },
  WC_JSON_TOO_DEEP: { status: 400, message: 'JSON too deeply nested' },
  WC_JSON_STRING_TOO_LONG: { status: 400, message: 'JSON string too long' },
  WC_BODY_UNDECODABLE: { status: 400, message: 'Request body could not be decoded' },
  WC_SCHEMA_VALIDATION_FAILED: { status: 400, message: 'JSON schema validation failed' },
  WC_RATE_LIMITED: { status: 429, message: 'Rate limit exceeded' },
  WC_ROUTE_NOT_FOUND: { status: 404, message: 'Not found' },
  WC_BAD_REQUEST: { status: 400, message: 'Bad request' },
  WC_REQUEST_TIMEOUT: { status: 408, message: 'Request timed out' },
  WC_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },

  // --- processing --------------------------------------------------------------------------------
  WC_MODULE_UNAVAILABLE: { status: 501, message: 'Module configuration error' },
  WC_MODULE_FAILED: { status: 500, message: 'An error occurred while processing the request' },
  WC_OVERLOADED: { status: 503, message: 'Server is saturated, retry later' },
  WC_SHUTTING_DOWN: { status: 503, message: 'Server is shutting down' },
  WC_INTERNAL: { status: 500, message: 'An error occurred while processing the request' },

  // --- authentication (shared causes; methods add their own detail) ---------------------------------
  WC_AUTH_MISSING: { status: 401, message: 'Authentication required' },
  WC_AUTH_MALFORMED: { status: 401, message: 'Malformed credentials' },
  WC_AUTH_MISMATCH: { status: 401, message: 'Invalid credentials' },
  WC_AUTH_EXPIRED: { status: 401, message: 'Credentials expired' },
  WC_AUTH_REPLAYED: { status: 401, message: 'Request was already seen (replay)' },
  WC_AUTH_FORBIDDEN_IP: { status: 401, message: 'Client address not allowed' },
  WC_AUTH_UNAVAILABLE: { status: 401, message: 'Authentication could not be completed' },

  // --- admin and operational endpoints -------------------------------------------------------------
  WC_ADMIN_DISABLED: {
    status: 403,
    message: 'Admin API disabled. Set CONFIG_RELOAD_ADMIN_TOKEN environment variable.',
  },
  WC_ADMIN_AUTH_REQUIRED: { status: 401, message: 'Authentication required' },
  WC_ADMIN_AUTH_INVALID: { status: 401, message: 'Invalid authentication token' },
  WC_IP_DENIED: { status: 403, message: 'Access denied from this IP address' },
  WC_RELOAD_FAILED: { status: 400, message: 'Configuration reload failed' },
  WC_RELOAD_IN_PROGRESS: { status: 409, message: 'A configuration reload is already in progress' },

  // --- configuration (reported by `serve` and `config check`, not over HTTP) ------------------------
  WC_CONFIG_INVALID: { status: 500, message: 'Configuration is invalid' },

  // --- delivery by output modules -----------------------------------------------------------------
  WC_SSRF_BLOCKED: { status: 400, message: 'Target address is not allowed' },
  WC_DELIVERY_TRANSIENT: { status: 502, message: 'Delivery failed, will be retried' },
  WC_DELIVERY_PERMANENT: { status: 502, message: 'Delivery failed permanently' },

  // --- webhook connect buffer ---------------------------------------------------------------------
  WC_QUEUE_FULL: { status: 503, message: 'Channel queue is full, retry later' },
  WC_BUFFER_UNAVAILABLE: { status: 503, message: 'Message buffer unavailable, retry later' },
  WC_CHANNEL_NOT_FOUND: { status: 404, message: 'Channel not found' },
  WC_MESSAGE_DUPLICATE: { status: 409, message: 'A message with this id is already stored' },

  // --- webhook connect streaming and admin API -----------------------------------------------------
  WC_CONNECT_TOKEN_MISSING: { status: 401, message: 'Missing authorization token' },
  WC_CONNECT_TOKEN_INVALID: { status: 401, message: 'Invalid channel token' },
  WC_CONNECT_IP_DENIED: { status: 403, message: 'Connector address not allowed for this channel' },
  WC_CONNECT_MAX_CONNECTIONS: { status: 503, message: 'Max connections reached' },
  WC_CONNECT_REQUEST_INVALID: { status: 422, message: 'Invalid request parameters' },
  WC_CONNECTION_NOT_FOUND: { status: 404, message: 'Connection not found' },
  WC_CONNECTION_NOT_ON_CHANNEL: { status: 400, message: 'Connection not on this channel' },
  WC_MESSAGE_NOT_IN_FLIGHT: { status: 404, message: 'Message not in flight' },
  WC_MESSAGE_TOO_LARGE: { status: 413, message: 'Message exceeds the channel max_message_size' },
  WC_RELAY_NOT_RUNNING: { status: 503, message: 'Webhook Connect is not initialized' },
  WC_CONNECT_ADMIN_DISABLED: {
    status: 403,
    message: 'Admin API disabled. Set WEBHOOK_CONNECT_ADMIN_TOKEN environment variable.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface WebhookConnectErrorOptions {
  /** Request-specific public detail. Must never contain a secret. Defaults to the catalogue message. */
  readonly detail?: string;
  /** Seconds the client should wait before retrying; sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (e.g. `WWW-Authenticate`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** For logs only. */
  readonly cause?: unknown;
}

export class WebhookConnectError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, options: WebhookConnectErrorOptions = {}) {
    const spec = ERROR_CATALOGUE[code];
    super(options.detail ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WebhookConnectError';
    this.code = code;
    this.status = spec.status;
    this.detail = options.detail ?? spec.message;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }

  /** The JSON body sent to clients: the reference's `detail` plus our stable `code`. */
  toResponseBody(): { detail: string; code: ErrorCode } {
    return { detail: this.detail, code: this.code };
  }
}

export function isWebhookConnectError(value: unknown): value is WebhookConnectError {
  return value instanceof WebhookConnectError;
}

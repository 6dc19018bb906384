/**
 * Failure classification by retryability (STYLE.md §8). Output modules and the connector throw
 * `TransientDeliveryError` (worth retrying: network, timeout, 5xx, 408, 425, 429) or
 * `PermanentDeliveryError` (retrying cannot help: bad config, other 4xx, rejected payload).
 * `classifyDeliveryError` maps anything else — library and network errors — to one of the two.
 */

export class TransientDeliveryError extends Error {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientDeliveryError';
  }
}

export class PermanentDeliveryError extends Error {
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentDeliveryError';
  }
}

export type DeliveryError = TransientDeliveryError | PermanentDeliveryError;

/** Network-level error codes of Node and common client libraries that mean "try again later". */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTCONN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'ABORT_ERR',
]);

/** HTTP statuses that are worth retrying. Every other 4xx is permanent. */
export function isTransientHttpStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

export function classifyDeliveryError(error: unknown): DeliveryError {
  if (error instanceof TransientDeliveryError || error instanceof PermanentDeliveryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return new TransientDeliveryError(message, { cause: error });
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) {
      return new TransientDeliveryError(message, { cause: error });
    }
    const status =
      (error as { status?: unknown; statusCode?: unknown }).status ??
      (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') {
      return isTransientHttpStatus(status)
        ? new TransientDeliveryError(message, { cause: error })
        : new PermanentDeliveryError(message, { cause: error });
    }
  }
  // Unknown failures are permanent: retrying a programming or configuration error only delays the report.
  return new PermanentDeliveryError(message, { cause: error });
}

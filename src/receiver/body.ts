/**
 * Reads a request body into one Buffer while enforcing the size limit on the bytes as they arrive: a
 * declared `Content-Length` over the limit is refused before reading anything, and a chunked body is
 * cut off at the first chunk that crosses the limit, so an oversize body is never buffered.
 */
import type { IncomingMessage } from 'node:http';
import { WebhookConnectError } from '../shared/errors.js';

export function tooLarge(size: number | string, limit: number): WebhookConnectError {
  return new WebhookConnectError('WC_BODY_TOO_LARGE', {
    detail: `Payload too large: ${size} bytes (max: ${limit})`,
  });
}

/** Called once with the whole body, or with the error that ended the read. */
export type BodyCallback = (error: WebhookConnectError | null, body?: Buffer) => void;

/**
 * Callback form of {@link readBody} for the content-type parser: no promise and no extra microtask turn
 * per request. `done` is called exactly once.
 */
export function readBodyInto(stream: IncomingMessage, limit: number, done: BodyCallback): void {
  const declared = stream.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return done(tooLarge(declared, limit));
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let received = 0;
  const cleanup = () => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('aborted', onAborted);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      cleanup();
      stream.pause();
      done(tooLarge(`more than ${limit}`, limit));
      return;
    }
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  };
  const onEnd = () => {
    cleanup();
    done(null, chunks !== undefined ? Buffer.concat(chunks, received) : (first ?? Buffer.concat([], 0)));
  };
  const onError = (error: Error) => {
    cleanup();
    done(new WebhookConnectError('WC_BODY_READ_FAILED', { cause: error }));
  };
  const onAborted = () => onError(new Error('request aborted'));
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('aborted', onAborted);
}

export function readBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    readBodyInto(stream, limit, (error, body) => (error === null ? resolve(body as Buffer) : reject(error)));
  });
}

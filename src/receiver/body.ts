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

export function readBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = stream.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(declared, limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
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
        reject(tooLarge(`more than ${limit}`, limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new WebhookConnectError('WC_BODY_READ_FAILED', { cause: error }));
    };
    const onAborted = () => onError(new Error('request aborted'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onAborted);
  });
}

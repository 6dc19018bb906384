/**
 * Long-poll transport (`GET /connect/stream/{channel}/poll?timeout=&max_messages=`); acks and nacks go
 * over `POST /connect/ack` with the connection id of the response that carried the message. A poll is only
 * sent when a delivery slot is free, and asks for at most as many messages as there are free slots, so the
 * connector never holds leases it cannot work on. Each poll must answer within `poll_timeout + 5` s (the
 * long-poll heartbeat deadline); a session is "connected" once the first poll was answered.
 */
import type { IncomingMessage } from 'node:http';
import { parseServerFrame, ROUTES, type WebhookFrame } from '../../protocol/frames.js';
import { sleep } from '../../shared/backoff.js';
import { authHeaders, baseUrl, cloudRequest, once, postAck, readBody } from './shared.js';
import { ConnectFailure, type OpenTransport, type SessionEnd, type TransportContext } from './types.js';

/** Consecutive unexpected answers (5xx, 422 ...) tolerated before the session is replaced. */
const MAX_SOFT_FAILURES = 3;

interface PollResult {
  readonly connectionId: string | undefined;
  readonly messages: readonly WebhookFrame[];
}

async function pollOnce(
  context: TransportContext,
  maxMessages: number,
  signal: AbortSignal,
): Promise<PollResult> {
  const { config } = context;
  const query = new URLSearchParams({
    timeout: String(config.poll_timeout),
    max_messages: String(maxMessages),
  });
  const deadlineMs = (config.poll_timeout + 5) * 1000;
  const timeout = AbortSignal.timeout(deadlineMs);
  let res: IncomingMessage;
  try {
    res = await cloudRequest(context.agents, {
      method: 'GET',
      url: `${baseUrl(config)}${ROUTES.poll(config.channel)}?${query.toString()}`,
      headers: { ...authHeaders(config), accept: 'application/json' },
      signal: AbortSignal.any([signal, timeout]),
      headersTimeoutMs: deadlineMs,
    });
  } catch (error) {
    if (signal.aborted) throw new ConnectFailure('stopped', 'stopped');
    const reason =
      timeout.aborted || (error as { code?: string }).code === 'ETIMEDOUT' ? 'heartbeat_timeout' : 'error';
    throw new ConnectFailure(reason, (error as Error).message, { cause: error });
  }
  const status = res.statusCode ?? 0;
  let body: Buffer;
  try {
    body = await readBody(res);
  } catch (error) {
    throw new ConnectFailure('error', (error as Error).message, { cause: error });
  }
  if (status === 204) return { connectionId: undefined, messages: [] };
  const text = body.toString('utf8');
  if (status === 401 || status === 403)
    throw new ConnectFailure('auth_rejected', `HTTP ${status} ${text.slice(0, 200)}`);
  if (status === 404) throw new ConnectFailure('channel_not_found', `HTTP 404 ${text.slice(0, 200)}`);
  if (status === 503 && /max connections/i.test(text))
    throw new ConnectFailure('max_connections', `HTTP 503 ${text.slice(0, 200)}`);
  if (status !== 200) throw Object.assign(new Error(`HTTP ${status} ${text.slice(0, 200)}`), { soft: true });
  const parsed = JSON.parse(text) as { connection_id?: unknown; messages?: unknown };
  const messages: WebhookFrame[] = [];
  for (const item of Array.isArray(parsed.messages) ? parsed.messages : []) {
    const frame = parseServerFrame(JSON.stringify({ ...(item as object), type: 'webhook' }));
    if (frame.ok && frame.frame.type === 'webhook') messages.push(frame.frame);
    else
      context.logger.warn(
        { error: frame.ok ? 'not a webhook' : frame.error },
        'ignoring a bad polled message',
      );
  }
  return {
    connectionId: typeof parsed.connection_id === 'string' ? parsed.connection_id : undefined,
    messages,
  };
}

export const openLongPoll: OpenTransport = async (context, handlers, signal) => {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const ended = once<SessionEnd>();
  /** message id → the connection id to ack it with. */
  const owners = new Map<string, string | undefined>();
  let lastConnectionId: string | undefined;

  const dispatch = (result: PollResult) => {
    if (result.connectionId !== undefined) lastConnectionId = result.connectionId;
    for (const frame of result.messages) {
      owners.set(frame.message_id, result.connectionId);
      handlers.onWebhook(frame);
    }
  };

  // The first poll decides whether the relay accepts us.
  try {
    const first = await context.waitForCapacity(controller.signal);
    dispatch(await pollOnce(context, Math.min(first, context.config.poll_max_messages), controller.signal));
  } catch (error) {
    signal.removeEventListener('abort', onAbort);
    if (error instanceof ConnectFailure) throw error;
    throw new ConnectFailure(signal.aborted ? 'stopped' : 'error', (error as Error).message, {
      cause: error,
    });
  }

  void (async () => {
    let softFailures = 0;
    while (!controller.signal.aborted) {
      try {
        const free = await context.waitForCapacity(controller.signal);
        dispatch(
          await pollOnce(context, Math.min(free, context.config.poll_max_messages), controller.signal),
        );
        softFailures = 0;
      } catch (error) {
        if (controller.signal.aborted) break;
        if ((error as { soft?: boolean }).soft === true && ++softFailures < MAX_SOFT_FAILURES) {
          context.logger.warn({ err: error }, 'unexpected long-poll answer; polling again in 1 s');
          await sleep(1000, controller.signal).catch(() => undefined);
          continue;
        }
        ended.settle(
          error instanceof ConnectFailure
            ? { reason: error.reason, detail: error.message }
            : { reason: 'error', detail: (error as Error).message },
        );
        break;
      }
    }
    signal.removeEventListener('abort', onAbort);
    ended.settle({ reason: 'stopped', detail: 'closed by the connector' });
  })();

  const settle = (messageId: string) => {
    const owner = owners.has(messageId) ? owners.get(messageId) : lastConnectionId;
    owners.delete(messageId);
    return owner;
  };
  return {
    protocol: 'long_poll',
    connectionId: () => lastConnectionId,
    ack: (messageId) => postAck(context, settle(messageId), messageId, undefined),
    nack: (messageId, options) => postAck(context, settle(messageId), messageId, options),
    ended: ended.promise,
    close: () => controller.abort(),
  };
};

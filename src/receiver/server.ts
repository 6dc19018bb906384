/**
 * Assembles the receiver: one Fastify app with the webhook pipeline, the operational endpoints, the config
 * admin endpoints, security headers and CORS on every response, and one error handler that turns coded
 * errors into `{detail, code}` responses. Extra route sets (Webhook Connect's `/connect/*` and
 * `/admin/webhook-connect/*`) plug in through `extraRoutes`.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import type { ServerSettings } from '../config/settings.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { isWebhookConnectError, WebhookConnectError } from '../shared/errors.js';
import { registerAdminRoutes } from './admin-routes.js';
import { readBodyInto } from './body.js';
import type { ReceiverContext } from './context.js';
import type { HealthRegistry } from './health.js';
import {
  compileSecurityHeaders,
  corsHeaders,
  isHttpsRequest,
  parseCorsOrigins,
} from './http-policy/index.js';
import { registerOpsRoutes } from './ops-routes.js';
import { SlidingWindowRateLimiter } from './rate-limit/index.js';
import type { ReceiverRuntime } from './runtime.js';
import { RequestStats } from './stats/index.js';
import type { TaskPool } from './tasks.js';
import { registerWebhookRoutes } from './webhook-route.js';

/** Body limit of the non-webhook routes (admin JSON bodies). */
const OTHER_ROUTES_BODY_LIMIT = 1024 * 1024;

export interface ReceiverOptions {
  readonly settings: ServerSettings;
  readonly logger: Logger;
  readonly runtime: ReceiverRuntime;
  readonly tasks: TaskPool;
  readonly metrics: Metrics;
  readonly health: HealthRegistry;
  /** TLS key and certificate (PEM) when `serve` terminates TLS itself. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
  /** More routes to register (Webhook Connect). */
  readonly extraRoutes?: readonly ((app: FastifyInstance, context: ReceiverContext) => void)[];
}

export interface Receiver {
  readonly app: FastifyInstance;
  readonly context: ReceiverContext;
  /** Stops timers owned by the receiver (the app itself is closed with `app.close()`). */
  close(): void;
}

export function createReceiver(options: ReceiverOptions): Receiver {
  const { settings, logger } = options;
  const context: ReceiverContext = {
    settings,
    logger,
    runtime: options.runtime,
    tasks: options.tasks,
    metrics: options.metrics,
    health: options.health,
    stats: new RequestStats(),
    webhookLimiter: new SlidingWindowRateLimiter(),
    endpointLimiter: new SlidingWindowRateLimiter(),
  };

  const serverOptions: FastifyServerOptions = {
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: the routes log through the receiver's logger with their own fields,
    // and a child (bindings plus redaction setup) per request cost about 3% of the receiver's CPU.
    childLoggerFactory: (logger) => logger,
    bodyLimit: OTHER_ROUTES_BODY_LIMIT,
    requestTimeout: 120_000,
    // Our own hook answers requests that arrive during shutdown, with the coded body (see below).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Ids longer than the router's default of 100 must reach the id validator (which answers 400).
    routerOptions: { maxParamLength: 2048 },
    // Refusals by the router (undecodable URL, over-long parameter) answer like every other refusal.
    frameworkErrors: (error, request, reply) => {
      const onWebhookRoute = (request.raw.url ?? '').startsWith('/webhook/');
      const coded = new WebhookConnectError(onWebhookRoute ? 'WC_WEBHOOK_ID_INVALID' : 'WC_BAD_REQUEST', {
        detail: onWebhookRoute ? 'Invalid webhook id' : 'Bad request',
        cause: error,
      });
      void (reply as unknown as FastifyReply).code(coded.status).send(coded.toResponseBody());
    },
    // Refusals by Node's HTTP parser (malformed request, headers too large, headers timeout).
    clientErrorHandler: (error, socket) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      const coded =
        code === 'HPE_HEADER_OVERFLOW'
          ? new WebhookConnectError('WC_HEADERS_TOO_LARGE')
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? new WebhookConnectError('WC_REQUEST_TIMEOUT')
            : new WebhookConnectError('WC_BAD_REQUEST');
      const body = JSON.stringify(coded.toResponseBody());
      socket.end(
        `HTTP/1.1 ${coded.status} ${STATUS_CODES[coded.status] ?? ''}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  };
  // Node's own 16 KiB header cap would answer before our configurable budget (MAX_HEADER_BYTES) could.
  const maxHeaderSize = settings.MAX_HEADER_BYTES + 8 * 1024;
  // How often Node checks headersTimeout/requestTimeout (default 30 s would let a slow client linger).
  const connectionsCheckingInterval = 1000;
  // Fastify's https overload has a different instance type; the routes only use the common surface.
  const createApp = Fastify as unknown as (
    options: FastifyServerOptions & { http?: object; https?: object },
  ) => FastifyInstance;
  const app = createApp(
    options.tls === undefined
      ? { ...serverOptions, http: { maxHeaderSize, connectionsCheckingInterval } }
      : { ...serverOptions, https: { ...options.tls, maxHeaderSize, connectionsCheckingInterval } },
  );
  // Slow-headers clients are cut off early; bodies have the request timeout.
  app.server.headersTimeout = 15_000;

  // Every body is read as raw bytes with the limit enforced while reading.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const limit = request.webhookState?.route.maxBodyBytes ?? OTHER_ROUTES_BODY_LIMIT;
    readBodyInto(payload, limit, (error, body) => done(error as FastifyError | null, body));
  });

  const cors = parseCorsOrigins(settings.CORS_ALLOWED_ORIGINS);
  for (const rejected of cors.rejected) {
    logger.warn({ origin: rejected.origin, reason: rejected.reason }, 'CORS origin ignored');
  }
  const headersFor = compileSecurityHeaders({
    forceHttps: settings.FORCE_HTTPS,
    hstsMaxAge: settings.HSTS_MAX_AGE,
    hstsIncludeSubdomains: settings.HSTS_INCLUDE_SUBDOMAINS,
    hstsPreload: settings.HSTS_PRELOAD,
    ...(settings.CSP_POLICY === undefined ? {} : { cspPolicy: settings.CSP_POLICY }),
  });
  // Callback hooks (not async ones): no promise and no microtask turn per response.
  app.addHook('onSend', (request, reply, _payload, done) => {
    const encrypted = (request.raw.socket as { encrypted?: boolean }).encrypted === true;
    const forwardedProto = request.headers['x-forwarded-proto'];
    reply.headers(
      headersFor({
        isHttps: isHttpsRequest(encrypted, typeof forwardedProto === 'string' ? forwardedProto : undefined),
        path: request.url,
      }),
    );
    if (cors.accepted.size > 0)
      reply.headers(corsHeaders(request.headers.origin, request.method, cors.accepted));
    done();
  });
  app.options('*', async (_request, reply) => reply.code(204).send());

  // Shutdown (`app.close()`): the listener stops taking connections; a request that still arrives on an
  // open keep-alive connection is refused with the coded 503, and its connection closed. Requests already
  // past this hook are served to the end.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    done(new WebhookConnectError('WC_SHUTTING_DOWN', { retryAfterSeconds: 5 }));
  });

  app.addHook('onResponse', (request, reply, done) => {
    const state = request.webhookState;
    if (state !== undefined || request.url.startsWith('/webhook/')) {
      const label = state?.route.definition.id ?? '_unknown';
      options.metrics.observeRequest(label, reply.statusCode, reply.elapsedTime / 1000);
    }
    done();
  });

  app.setNotFoundHandler(async () => {
    throw new WebhookConnectError('WC_ROUTE_NOT_FOUND');
  });

  app.setErrorHandler(async (error, request, reply) => {
    const coded = toCodedError(error);
    if (coded.status >= 500) logger.error({ err: error, url: request.url }, 'request failed');
    else logger.debug({ code: coded.code, detail: coded.detail, url: request.url }, 'request refused');
    if (coded.retryAfterSeconds !== undefined) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(coded.retryAfterSeconds))));
    }
    reply.headers(coded.headers);
    // An oversize body is not read to its end: close the connection instead of draining it.
    if (coded.code === 'WC_BODY_TOO_LARGE') reply.header('connection', 'close');
    return reply.code(coded.status).send(coded.toResponseBody());
  });

  registerWebhookRoutes(app, context);
  registerOpsRoutes(app, context);
  registerAdminRoutes(app, context);
  for (const register of options.extraRoutes ?? []) register(app, context);

  return {
    app,
    context,
    close() {
      context.webhookLimiter.close();
      context.endpointLimiter.close();
    },
  };
}

/** Maps any thrown value to a coded error; framework errors keep their meaning. */
function toCodedError(error: unknown): WebhookConnectError {
  if (isWebhookConnectError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new WebhookConnectError('WC_BODY_TOO_LARGE', { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new WebhookConnectError('WC_BODY_READ_FAILED', { cause: error });
    default:
      if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
        return new WebhookConnectError('WC_BODY_READ_FAILED', { cause: error });
      }
      return new WebhookConnectError('WC_INTERNAL', { cause: error });
  }
}

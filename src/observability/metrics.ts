/**
 * Prometheus metrics (prom-client) in a dedicated registry, served by `GET /metrics`.
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `webhook_requests_total` | counter | `webhook`, `status` |
 * | `webhook_request_duration_seconds` | histogram (0.5 ms … 10 s) | `webhook` |
 * | `module_deliveries_total` | counter | `module`, `result` = success, transient_failure, permanent_failure |
 * | `module_delivery_duration_seconds` | histogram (1 ms … 60 s) | `module` |
 * | `background_tasks_in_flight` | gauge | |
 * | `background_tasks_waiting` | gauge | |
 * | `background_tasks_dropped_total` | counter | |
 * | process and Node.js defaults (`process_*`, `nodejs_*`) | | |
 *
 * **Label values must be bounded.** The receiver passes the *config key* that matched (or
 * {@link UNMATCHED_WEBHOOK_LABEL}) as `webhook` — never the path id, which a client chooses freely — and
 * the module *type* as `module`. As a backstop, distinct values per label are capped
 * (`maxLabelValues`, default 1000); later new values are counted under {@link OVERFLOW_LABEL}.
 *
 * Recording is cheap: labelled children are cached in nested maps, so a hot-path observation is two map
 * lookups and two increments, with no string building.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** `webhook` label for requests that matched no configured webhook (404s, bad ids). */
export const UNMATCHED_WEBHOOK_LABEL = '_unknown';
/** Label value used once `maxLabelValues` distinct values have been seen. */
export const OVERFLOW_LABEL = '_other';

/** Request latency buckets, seconds: 0.5 ms … 10 s. */
export const REQUEST_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Delivery latency buckets, seconds: 1 ms … 60 s (deliveries include network round trips and retries). */
export const DELIVERY_DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** A sample line (not a comment) whose value prom-client wrote as "Nan". */
const NAN_SAMPLE = /^([^#\n][^\n]*) Nan$/gm;

/** Outcome of one module delivery. */
export type DeliveryResult = 'success' | 'transient_failure' | 'permanent_failure';

/** What {@link Metrics.trackTasks} reads at scrape time (the task pool's stats satisfy it). */
export interface TaskGaugeSource {
  /** Tasks running now. */
  readonly active: number;
  /** Requests waiting for a task slot. Default 0. */
  readonly waiting?: number;
  /** Tasks refused or dropped since start (monotonic). */
  readonly refused: number;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Collect prom-client's default process and Node.js metrics. Default true. */
  readonly defaultMetrics?: boolean;
  /** Cap on distinct values per label (`webhook`, `module`). Default 1000. */
  readonly maxLabelValues?: number;
}

export interface Metrics {
  /** The dedicated registry (not prom-client's global one). */
  readonly registry: Registry;
  /** `Content-Type` of {@link render}'s output (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** One finished `/webhook` request: `webhook` is the matched config key or {@link UNMATCHED_WEBHOOK_LABEL}. */
  observeRequest(webhook: string, status: number, durationSeconds: number): void;
  /** One module delivery attempt's outcome; `module` is the module type. */
  observeDelivery(module: string, result: DeliveryResult, durationSeconds: number): void;
  /** Reads task gauges from `source` at each scrape (replaces a previous source). */
  trackTasks(source: () => TaskGaugeSource): void;
  /** Counts background tasks dropped outside the tracked source. */
  taskDropped(count?: number): void;
  /** The exposition text. */
  render(): Promise<string>;
}

/** Caps the distinct values of one label. */
class LabelGuard {
  readonly #seen = new Set<string>();
  constructor(readonly max: number) {}
  value(candidate: string): string {
    if (this.#seen.has(candidate)) return candidate;
    if (this.#seen.size >= this.max) return OVERFLOW_LABEL;
    this.#seen.add(candidate);
    return candidate;
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const maxLabels = Math.max(1, options.maxLabelValues ?? 1000);

  const requests = new Counter({
    name: 'webhook_requests_total',
    help: 'Webhook requests answered, by configured webhook and HTTP status.',
    labelNames: ['webhook', 'status'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'webhook_request_duration_seconds',
    help: 'Time to answer a webhook request, by configured webhook.',
    labelNames: ['webhook'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'module_deliveries_total',
    help: 'Module deliveries, by module type and result.',
    labelNames: ['module', 'result'] as const,
    registers: [registry],
  });
  const deliveryDuration = new Histogram({
    name: 'module_delivery_duration_seconds',
    help: 'Time of one module delivery, by module type.',
    labelNames: ['module'] as const,
    buckets: DELIVERY_DURATION_BUCKETS,
    registers: [registry],
  });

  let taskSource: (() => TaskGaugeSource) | undefined;
  let droppedElsewhere = 0;
  const readTasks = (): TaskGaugeSource | undefined => {
    try {
      return taskSource?.();
    } catch {
      return undefined; // a broken source must not break the scrape
    }
  };
  new Gauge({
    name: 'background_tasks_in_flight',
    help: 'Background tasks (module deliveries) running now.',
    registers: [registry],
    collect() {
      this.set(readTasks()?.active ?? 0);
    },
  });
  new Gauge({
    name: 'background_tasks_waiting',
    help: 'Requests waiting for a background task slot.',
    registers: [registry],
    collect() {
      this.set(readTasks()?.waiting ?? 0);
    },
  });
  new Counter({
    name: 'background_tasks_dropped_total',
    help: 'Background tasks that could not be started.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc((readTasks()?.refused ?? 0) + droppedElsewhere);
    },
  });

  const webhookLabels = new LabelGuard(maxLabels);
  const moduleLabels = new LabelGuard(maxLabels);
  // Children per label value (so at most maxLabels + 1 entries each).
  const requestChildren = new Map<string, RequestChildren>();
  const deliveryChildren = new Map<string, DeliveryChildren>();

  const requestChildrenFor = (label: string): RequestChildren => {
    let children = requestChildren.get(label);
    if (children === undefined) {
      children = { label, duration: requestDuration.labels(label), counters: new Map() };
      requestChildren.set(label, children);
    }
    return children;
  };
  const deliveryChildrenFor = (label: string): DeliveryChildren => {
    let children = deliveryChildren.get(label);
    if (children === undefined) {
      children = { label, duration: deliveryDuration.labels(label), counters: new Map() };
      deliveryChildren.set(label, children);
    }
    return children;
  };

  return {
    registry,
    contentType: registry.contentType,
    observeRequest(webhook, status, durationSeconds) {
      const children = requestChildren.get(webhook) ?? requestChildrenFor(webhookLabels.value(webhook));
      let counter = children.counters.get(status);
      if (counter === undefined) {
        counter = requests.labels(children.label, String(status));
        children.counters.set(status, counter);
      }
      counter.inc();
      if (durationSeconds >= 0 && durationSeconds !== Infinity) children.duration.observe(durationSeconds);
    },
    observeDelivery(module, result, durationSeconds) {
      const children = deliveryChildren.get(module) ?? deliveryChildrenFor(moduleLabels.value(module));
      let counter = children.counters.get(result);
      if (counter === undefined) {
        counter = deliveries.labels(children.label, result);
        children.counters.set(result, counter);
      }
      counter.inc();
      if (durationSeconds >= 0 && durationSeconds !== Infinity) children.duration.observe(durationSeconds);
    },
    trackTasks(source) {
      taskSource = source;
    },
    taskDropped(count = 1) {
      if (count > 0) droppedElsewhere += count;
    },
    async render() {
      // prom-client spells NaN "Nan" (accepted by Go's ParseFloat, not by stricter parsers): canonicalise.
      return (await registry.metrics()).replace(NAN_SAMPLE, '$1 NaN');
    },
  };
}

interface RequestChildren {
  readonly label: string;
  readonly duration: Histogram.Internal<'webhook'>;
  readonly counters: Map<number, Counter.Internal>;
}

interface DeliveryChildren {
  readonly label: string;
  readonly duration: Histogram.Internal<'module'>;
  readonly counters: Map<DeliveryResult, Counter.Internal>;
}

/**
 * Connector metrics (prom-client, own registry). Labels are bounded: results and states are fixed sets;
 * webhook ids are not used as labels.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CONNECTION_STATES, type ConnectionState } from './client.js';
import type { DeliveryResult } from './delivery.js';

export interface ConnectorMetrics {
  readonly registry: Registry;
  delivery(result: DeliveryResult, seconds: number): void;
  duplicate(): void;
  state(state: ConnectionState): void;
  reconnect(reason: string): void;
  ackFailed(): void;
}

export interface ConnectorGauges {
  /** Deliveries running now. */
  readonly running: () => number;
  /** Messages waiting for a slot. */
  readonly waiting: () => number;
}

export function createConnectorMetrics(gauges: ConnectorGauges, defaultMetrics = true): ConnectorMetrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  const deliveries = new Counter({
    name: 'connector_deliveries_total',
    help: 'Messages delivered or failed, by result (success, transient, permanent, aborted).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'connector_delivery_duration_seconds',
    help: 'Time from the start of a delivery to its outcome, retries included.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'connector_duplicates_total',
    help: 'Redelivered messages acked from the dedup window without delivering them again.',
    registers: [registry],
  });
  const stateGauge = new Gauge({
    name: 'connector_connection_state',
    help: 'Connection state to the relay: 1 for the current state, 0 for the others.',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const reconnects = new Counter({
    name: 'connector_reconnects_total',
    help: 'Reconnects to the relay, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const ackFailures = new Counter({
    name: 'connector_ack_failures_total',
    help: 'Acks or nacks the relay did not receive (the message will be redelivered).',
    registers: [registry],
  });
  new Gauge({
    name: 'connector_deliveries_in_flight',
    help: 'Deliveries running now.',
    registers: [registry],
    collect() {
      this.set(gauges.running());
    },
  });
  new Gauge({
    name: 'connector_deliveries_waiting',
    help: 'Messages received and waiting for a delivery slot.',
    registers: [registry],
    collect() {
      this.set(gauges.waiting());
    },
  });
  for (const state of CONNECTION_STATES) stateGauge.set({ state }, state === 'idle' ? 1 : 0);
  for (const result of ['success', 'transient', 'permanent', 'aborted'] as const)
    deliveries.inc({ result }, 0);

  return {
    registry,
    delivery(result, seconds) {
      deliveries.inc({ result });
      duration.observe(seconds);
    },
    duplicate: () => duplicates.inc(),
    state(current) {
      for (const state of CONNECTION_STATES) stateGauge.set({ state }, state === current ? 1 : 0);
    },
    reconnect: (reason) => reconnects.inc({ reason }),
    ackFailed: () => ackFailures.inc(),
  };
}

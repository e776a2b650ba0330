import { collectDefaultMetrics, Registry } from 'prom-client';

/** Creates a metrics registry with the Node.js runtime defaults and a `service` label. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Histogram buckets for request latencies, in seconds: shared by HTTP and gRPC, so their
 * percentiles compare.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export { Registry };

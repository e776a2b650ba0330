import { collectDefaultMetrics, Registry } from 'prom-client';

/** Creates a metrics registry with the Node.js runtime defaults and a `service` label. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export { Registry };

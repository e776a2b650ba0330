import type { EventTransport } from '@jamey/events';
import type { CircuitBreaker } from '@jamey/resilience';
import type { Health } from '@jamey/telemetry';
import { CALL_GRAPH, type ServiceName } from '@jamey/topology';

/**
 * How old a readiness report `grpc.health.v1` may answer from, in ms. Health checks come from
 * telemetry, the gateway, Kubernetes and the mesh; with this cache they cost the database at most
 * one ping a second, whoever calls.
 */
export const GRPC_HEALTH_READINESS_MAX_AGE_MS = 1000;

/**
 * Adds the optional `broker` check when the transport can be pinged (Kafka: a metadata request;
 * the in-process bus always answers). Optional because a service keeps serving while the broker
 * is away: its events wait in the outbox, and every replica would share the outage anyway.
 */
export function addBrokerCheck(health: Health, transport: EventTransport): void {
  const ping = transport.ping?.bind(transport);
  if (ping) health.addCheck('broker', (signal) => ping(signal), { required: false });
}

/** Readiness checks on the breakers of a service's call-graph downstreams. */
export interface DownstreamChecks {
  /** Checks `breaker` under the name `dependency` when it is a downstream; returns a function that stops. */
  watch(dependency: string, breaker: CircuitBreaker): () => void;
}

/**
 * One readiness check per call-graph downstream of `service`, named after it, failing while its
 * breaker is open or isolated. Whether the failure makes the service not ready is the edge's
 * `readiness` in @jamey/topology. Other dependencies (postgres, caches) get no check here.
 */
export function createDownstreamChecks(health: Health, service: ServiceName): DownstreamChecks {
  const breakers = new Map<string, CircuitBreaker>();
  const checked = new Set<string>();
  return {
    watch(dependency, breaker) {
      const edge = CALL_GRAPH.find((e) => e.from === service && e.to === dependency);
      if (!edge) return () => undefined;
      if (!checked.has(dependency)) {
        checked.add(dependency);
        health.addCheck(
          dependency,
          () => {
            const current = breakers.get(dependency);
            if (current && (current.state === 'open' || current.state === 'isolated')) {
              throw new Error(`${dependency} circuit is ${current.state}; next trial call in ${Math.ceil(current.retryAfterMs)} ms`);
            }
          },
          { required: edge.readiness === 'required' },
        );
      }
      breakers.set(dependency, breaker);
      return () => {
        if (breakers.get(dependency) === breaker) breakers.delete(dependency);
      };
    },
  };
}

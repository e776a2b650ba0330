import { trace } from '@opentelemetry/api';
import { Counter, Gauge, type Registry } from 'prom-client';
import type {
  BulkheadPolicy,
  CircuitBreaker,
  CircuitState,
  DegradationLevel,
  DegradationManager,
  RetryPolicy,
  TimeoutPolicy,
} from '@jamey/resilience';

const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/** `jamey_degradation_level` values: the higher, the less is available. */
export const DEGRADATION_LEVEL_VALUES: Readonly<Record<DegradationLevel, number>> = Object.freeze({
  full: 0,
  degraded: 1,
  minimal: 2,
  offline: 3,
});

/** The policies of one dependency, as `createEdgePolicies` in @jamey/rpc builds them. */
export interface ObservedPolicies {
  readonly breaker: CircuitBreaker;
  readonly bulkhead?: BulkheadPolicy | undefined;
  readonly retry?: RetryPolicy | undefined;
  readonly timeout?: TimeoutPolicy | undefined;
}

/** Turns resilience events into Prometheus metrics on a registry. */
export interface ResilienceMetrics {
  /** Starts recording `policies` under the `dependency` label. Returns a function that stops. */
  observe(dependency: string, policies: ObservedPolicies): () => void;
  /** Exports `manager`'s levels as `jamey_degradation_level`. One manager per registry. */
  observeDegradation(manager: DegradationManager): void;
}

/**
 * Registers Jamey's resilience metrics. Labels stay low-cardinality: the dependency name plus a
 * small closed set (state, outcome, reason).
 * - `jamey_circuit_breaker_state{dependency,state}`: 1 for the current state, 0 for the others
 * - `jamey_circuit_breaker_calls_total{dependency,outcome}`: success, failure, ignore
 * - `jamey_circuit_breaker_rejections_total{dependency}`: calls failed fast
 * - `jamey_retry_attempts_total{dependency}` and `jamey_retry_give_ups_total{dependency,reason}`
 * - `jamey_timeouts_total{dependency}`
 * - `jamey_bulkhead_rejections_total{dependency}`, `jamey_bulkhead_active_calls{dependency}`,
 *   `jamey_bulkhead_queue_depth{dependency}`
 * - `jamey_degradation_level{dependency}`: 0 full, 1 degraded, 2 minimal, 3 offline
 *
 * Every breaker state change also becomes an OpenTelemetry span event
 * (`jamey.circuit_breaker.state_change`) on the span active when it happened: the call that
 * tripped the breaker, or the probe that closed it.
 */
export function createResilienceMetrics(registry: Registry): ResilienceMetrics {
  const breakers = new Map<string, CircuitBreaker>();
  const bulkheads = new Map<string, BulkheadPolicy>();
  const registers = [registry];
  new Gauge({
    name: 'jamey_circuit_breaker_state',
    help: 'Circuit breaker state per dependency: 1 for the current state.',
    labelNames: ['dependency', 'state'],
    registers,
    collect() {
      // Reset first, so a dependency that is no longer observed disappears.
      this.reset();
      for (const [dependency, breaker] of breakers) {
        for (const state of STATES) this.set({ dependency, state }, breaker.state === state ? 1 : 0);
      }
    },
  });
  const calls = new Counter({
    name: 'jamey_circuit_breaker_calls_total',
    help: 'Calls through a circuit breaker by outcome.',
    labelNames: ['dependency', 'outcome'],
    registers,
  });
  const rejections = new Counter({
    name: 'jamey_circuit_breaker_rejections_total',
    help: 'Calls an open circuit breaker failed fast.',
    labelNames: ['dependency'],
    registers,
  });
  const retries = new Counter({ name: 'jamey_retry_attempts_total', help: 'Retries made.', labelNames: ['dependency'], registers });
  const giveUps = new Counter({
    name: 'jamey_retry_give_ups_total',
    help: 'Calls that stopped retrying, by reason.',
    labelNames: ['dependency', 'reason'],
    registers,
  });
  const timeouts = new Counter({ name: 'jamey_timeouts_total', help: 'Attempts that timed out.', labelNames: ['dependency'], registers });
  const bulkheadRejections = new Counter({
    name: 'jamey_bulkhead_rejections_total',
    help: 'Calls a full bulkhead rejected.',
    labelNames: ['dependency'],
    registers,
  });
  new Gauge({
    name: 'jamey_bulkhead_active_calls',
    help: 'Calls running inside a bulkhead.',
    labelNames: ['dependency'],
    registers,
    collect() {
      this.reset();
      for (const [dependency, bulkhead] of bulkheads) this.set({ dependency }, bulkhead.active);
    },
  });
  new Gauge({
    name: 'jamey_bulkhead_queue_depth',
    help: 'Calls waiting for a bulkhead slot.',
    labelNames: ['dependency'],
    registers,
    collect() {
      this.reset();
      for (const [dependency, bulkhead] of bulkheads) this.set({ dependency }, bulkhead.queued);
    },
  });

  let degradation: DegradationManager | undefined;
  new Gauge({
    name: 'jamey_degradation_level',
    help: 'Degradation level per dependency: 0 full, 1 degraded, 2 minimal, 3 offline.',
    labelNames: ['dependency'],
    registers,
    collect() {
      this.reset();
      if (!degradation) return;
      for (const [dependency, level] of Object.entries(degradation.levels())) this.set({ dependency }, DEGRADATION_LEVEL_VALUES[level]);
    },
  });

  return {
    observeDegradation(manager) {
      if (degradation && degradation !== manager) throw new Error('a registry exports one degradation manager');
      degradation = manager;
    },
    observe(dependency, policies) {
      breakers.set(dependency, policies.breaker);
      if (policies.bulkhead) bulkheads.set(dependency, policies.bulkhead);
      const stops = [
        policies.breaker.events.on('OnCircuitOutcome', ({ outcome }) => calls.inc({ dependency, outcome })),
        policies.breaker.events.on('OnCircuitRejected', () => rejections.inc({ dependency })),
        policies.breaker.events.on('OnCircuitStateChanged', ({ from, to }) => {
          trace.getActiveSpan()?.addEvent('jamey.circuit_breaker.state_change', {
            'jamey.dependency': dependency,
            'jamey.circuit_breaker.from': from,
            'jamey.circuit_breaker.to': to,
          });
        }),
      ];
      if (policies.retry) {
        stops.push(policies.retry.events.on('OnRetry', () => retries.inc({ dependency })));
        stops.push(policies.retry.events.on('OnRetryGiveUp', ({ reason }) => giveUps.inc({ dependency, reason })));
      }
      if (policies.timeout) stops.push(policies.timeout.events.on('OnTimeout', () => timeouts.inc({ dependency })));
      if (policies.bulkhead) stops.push(policies.bulkhead.events.on('OnBulkheadRejected', () => bulkheadRejections.inc({ dependency })));
      return () => {
        for (const stop of stops) stop();
        breakers.delete(dependency);
        bulkheads.delete(dependency);
      };
    },
  };
}

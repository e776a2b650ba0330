import { CALL_GRAPH } from '@jamey/topology';
import type { Expr } from './expr.js';
import type { LabelMatcher } from './samples.js';

/**
 * The RED queries shared by the alert rules and the history: one definition of "requests",
 * "errors" and "latency" for both, over gRPC servers (`rpc_server_call_duration_seconds`) and the
 * gateway's HTTP server (`http_server_request_duration_seconds`).
 */

/** The metric families telemetry reads. */
export const METRICS = Object.freeze({
  rpcServer: 'rpc_server_call_duration_seconds',
  httpServer: 'http_server_request_duration_seconds',
  breakerState: 'jamey_circuit_breaker_state',
  degradationLevel: 'jamey_degradation_level',
  consumerLag: 'jamey_kafka_consumer_lag_messages',
  deadLetters: 'jamey_kafka_dead_letters_total',
  readiness: 'jamey_readiness_check_up',
  /** Synthesized by telemetry per scrape (1 answered, 0 did not), as Prometheus does. */
  up: 'up',
  phi: 'jamey_consciousness_phi_bits',
  /** Names the process that answered a scrape. */
  processStart: 'process_start_time_seconds',
});

/**
 * gRPC codes that count as the server failing (the list Flagger's canary analysis uses): the
 * others (INVALID_ARGUMENT, NOT_FOUND, …) are the caller's problem. For HTTP, any 5xx.
 */
export const GRPC_ERROR_CODES = ['UNKNOWN', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS'] as const;

const sumBy = (by: readonly string[], expr: Expr): Expr => ({ kind: 'aggregate', op: 'sum', by, expr });

/** Requests per second over `windowMs`, summed `by` labels: gRPC calls, or else HTTP requests. */
export function requestRate(by: readonly string[], scope: readonly LabelMatcher[], windowMs: number): Expr {
  return {
    kind: 'or',
    left: sumBy(by, { kind: 'rate', metric: `${METRICS.rpcServer}_count`, matchers: scope, windowMs }),
    right: sumBy(by, { kind: 'rate', metric: `${METRICS.httpServer}_count`, matchers: scope, windowMs }),
  };
}

/** The share of requests that failed over `windowMs` (0..1), `by` labels. */
export function errorRatio(by: readonly string[], scope: readonly LabelMatcher[], windowMs: number): Expr {
  const errors: Expr = {
    kind: 'or',
    left: sumBy(by, { kind: 'rate', metric: `${METRICS.rpcServer}_count`, matchers: [...scope, { label: 'code', op: '=~', value: GRPC_ERROR_CODES.join('|') }], windowMs }),
    right: sumBy(by, { kind: 'rate', metric: `${METRICS.httpServer}_count`, matchers: [...scope, { label: 'status_code', op: '=~', value: '5..' }], windowMs }),
  };
  return { kind: 'divide', left: errors, right: requestRate(by, scope, windowMs) };
}

/** The `q` quantile of request duration over `windowMs`, in seconds, `by` labels. */
export function latencyQuantile(q: number, by: readonly string[], scope: readonly LabelMatcher[], windowMs: number): Expr {
  return {
    kind: 'quantile',
    q,
    expr: {
      kind: 'or',
      left: sumBy([...by, 'le'], { kind: 'rate', metric: `${METRICS.rpcServer}_bucket`, matchers: scope, windowMs }),
      right: sumBy([...by, 'le'], { kind: 'rate', metric: `${METRICS.httpServer}_bucket`, matchers: scope, windowMs }),
    },
  };
}

/**
 * The readiness checks (`jamey_readiness_check_up{check}`) whose failure makes a service not
 * ready, as label matchers: `database` (every service kit's, required) and `shutdown` (reported
 * while a service stops), on every service; and on a caller, the check of each downstream whose
 * call-graph edge is `required` for readiness. Optional checks (the broker, optional downstream
 * breakers) mark a service degraded, not unready, so they raise no alert of their own.
 */
export function requiredReadinessChecks(): LabelMatcher[][] {
  const edges = CALL_GRAPH.filter((edge) => edge.readiness === 'required');
  return [
    [{ label: 'check', op: '=~', value: 'database|shutdown' }],
    ...edges.map((edge): LabelMatcher[] => [
      { label: 'service', op: '=', value: edge.from },
      { label: 'check', op: '=', value: edge.to },
    ]),
  ];
}

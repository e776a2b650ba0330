/**
 * The one declaration of Jamey's services, their default ports and the synchronous call graph.
 * Everything else (client wiring, network policies, authorization, resilience policies and
 * tests) is derived from this file. The graph must stay a DAG.
 */

/** Every Jamey service. */
export const SERVICE_NAMES = ['gateway', 'memory', 'consciousness', 'soul', 'audit', 'telemetry'] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Services that serve gRPC (all but the gateway). */
export type GrpcServiceName = Exclude<ServiceName, 'gateway'>;

/** Default ports of one service. */
export interface ServicePorts {
  /** gRPC port; the gateway serves public HTTP here instead. */
  readonly main: number;
  /** Admin HTTP port: /healthz, /readyz, /metrics. */
  readonly admin: number;
}

/** Default ports. Each can be overridden by `<SERVICE>_PORT` / `<SERVICE>_ADMIN_PORT`. */
export const DEFAULT_PORTS: Readonly<Record<ServiceName, ServicePorts>> = Object.freeze({
  gateway: { main: 8080, admin: 9100 },
  memory: { main: 50051, admin: 9101 },
  consciousness: { main: 50052, admin: 9102 },
  soul: { main: 50053, admin: 9103 },
  audit: { main: 50054, admin: 9104 },
  telemetry: { main: 50055, admin: 9105 },
});

/**
 * Default port of the telemetry service's status page (`TELEMETRY_STATUS_PORT`): an HTTP server
 * of its own, beside telemetry's admin port. The gateway's `GET /status` redirects there.
 */
export const STATUS_PAGE_PORT = 9200;

/** The fully qualified gRPC service each service serves. */
export const GRPC_SERVICES: Readonly<Record<GrpcServiceName, string>> = Object.freeze({
  memory: 'jamey.memory.v1.MemoryService',
  consciousness: 'jamey.consciousness.v1.ConsciousnessService',
  soul: 'jamey.soul.v1.SoulService',
  audit: 'jamey.audit.v1.AuditService',
  telemetry: 'jamey.telemetry.v1.TelemetryService',
});

/** One allowed synchronous call: `from` may call `to` over gRPC. */
export interface CallEdge {
  readonly from: ServiceName;
  readonly to: GrpcServiceName;
}

/**
 * Whether a caller's readiness needs a downstream. `required`: while the caller's circuit breaker
 * for it is open, the caller reports not ready (`/readyz` 503, `grpc.health.v1` NOT_SERVING).
 * `optional`: the open breaker is reported (`/readyz` lists it, `jamey_readiness_check_up` is 0)
 * but the caller stays ready, degraded.
 *
 * Mark an edge required only when the caller can do nothing useful without the callee AND
 * another replica of the caller could still reach it. An outage every replica shares must not
 * take the callers out of rotation too, or one service's failure flaps the whole chain down.
 */
export type EdgeReadiness = 'required' | 'optional';

/** An edge of {@link CALL_GRAPH}: a {@link CallEdge} and what the caller's readiness makes of it. */
export interface CallGraphEdge extends CallEdge {
  readonly readiness: EdgeReadiness;
}

/**
 * The synchronous call graph. The gateway calls every service; consciousness calls memory
 * and soul. Telemetry polls every service's `grpc.health.v1` only, which is not a domain call.
 *
 * No edge is required for readiness. The gateway routes each API to its own service, so with one
 * down the others still work, and all gateway replicas share that outage. Consciousness records
 * perceptions without memory context or trust when those are away
 * (`CONSCIOUSNESS_DEPENDENCY_BUDGET_MS`).
 */
export const CALL_GRAPH: readonly CallGraphEdge[] = Object.freeze([
  { from: 'gateway', to: 'memory', readiness: 'optional' },
  { from: 'gateway', to: 'consciousness', readiness: 'optional' },
  { from: 'gateway', to: 'soul', readiness: 'optional' },
  { from: 'gateway', to: 'audit', readiness: 'optional' },
  { from: 'gateway', to: 'telemetry', readiness: 'optional' },
  { from: 'consciousness', to: 'memory', readiness: 'optional' },
  { from: 'consciousness', to: 'soul', readiness: 'optional' },
]);

/** What `from`'s readiness makes of `to` ({@link EdgeReadiness}). Throws for a pair that is not an edge. */
export function edgeReadiness(edge: CallEdge): EdgeReadiness {
  const found = CALL_GRAPH.find((e) => e.from === edge.from && e.to === edge.to);
  if (!found) throw new Error(`${edge.from} -> ${edge.to} is not an edge of the call graph`);
  return found.readiness;
}

/** The services `from` may call. */
export function downstreamsOf(from: ServiceName): GrpcServiceName[] {
  return CALL_GRAPH.filter((edge) => edge.from === from).map((edge) => edge.to);
}

/** The services allowed to call `to`. */
export function callersOf(to: GrpcServiceName): ServiceName[] {
  return CALL_GRAPH.filter((edge) => edge.to === to).map((edge) => edge.from);
}

/** The Kafka topic a service publishes its events on. */
export function eventTopic(service: ServiceName): string {
  return `jamey.${service}.events.v1`;
}

/** Services that publish events, and which services consume them (ARCHITECTURE.md). */
export const EVENT_FLOWS: Readonly<Record<string, readonly ServiceName[]>> = Object.freeze({
  memory: ['audit'],
  soul: ['audit'],
  consciousness: ['audit'],
  // Alerts (issue 4): audit keeps every alert that fired and resolved.
  telemetry: ['audit'],
  // Access records (issue 5): every gateway request, through the gateway's outbox.
  gateway: ['audit'],
});

/**
 * The topics each consuming service subscribes to, keyed by the service, which is also its
 * consumer group id. Derived from {@link EVENT_FLOWS}.
 */
export function eventSubscriptions(): Record<string, string[]> {
  const subscriptions: Record<string, string[]> = {};
  for (const [producer, consumers] of Object.entries(EVENT_FLOWS)) {
    for (const consumer of consumers) {
      (subscriptions[consumer] ??= []).push(eventTopic(producer as ServiceName));
    }
  }
  for (const topics of Object.values(subscriptions)) topics.sort();
  return subscriptions;
}

/**
 * How a caller protects itself on one edge of the call graph. Read by the gRPC clients (the
 * application layer) and rendered into the Helm chart, so both layers agree.
 */
export interface EdgePolicy {
  /** The caller's whole budget for one call on this edge, in ms, retries included. */
  readonly budgetMs: number;
  /** Attempts for idempotent methods (NO_SIDE_EFFECTS, IDEMPOTENT); other methods get one. */
  readonly maxAttempts: number;
  /** Time one attempt of an idempotent method may take, in ms. `attemptTimeoutMs × maxAttempts < budgetMs`. */
  readonly attemptTimeoutMs: number;
  /** Breaker: opens when this share of calls fails or is slow (0..1) … */
  readonly failureRateThreshold: number;
  /** … over at least this many calls … */
  readonly minimumThroughput: number;
  /** … within this sliding time window, in ms. */
  readonly windowMs: number;
  /** A call slower than this counts as slow, in ms. */
  readonly slowCallMs: number;
  /** Stays open this long before admitting trial calls, in ms (backs off on repeated opens). */
  readonly breakDurationMs: number;
  /** Trial calls admitted while half-open. */
  readonly halfOpenMaxCalls: number;
  /** Bulkhead: calls in flight to this downstream, and calls that may queue for a slot. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

/**
 * What a caller gives its downstream calls, in ms: the gateway's request budget, and the part of
 * a perception consciousness spends on memory and soul. Kept equal to the defaults of
 * `GATEWAY_DOWNSTREAM_TIMEOUT_MS` and `CONSCIOUSNESS_DEPENDENCY_BUDGET_MS`.
 */
export const CALLER_BUDGET_MS: Readonly<Partial<Record<ServiceName, number>>> = Object.freeze({
  gateway: 5000,
  consciousness: 1500,
});

const BASE_POLICY = {
  failureRateThreshold: 0.5,
  minimumThroughput: 5,
  windowMs: 10_000,
  breakDurationMs: 5_000,
  halfOpenMaxCalls: 1,
  maxConcurrent: 64,
  maxQueue: 256,
} as const;

/**
 * The policy of one edge, derived from {@link CALL_GRAPH} and {@link CALLER_BUDGET_MS}: three
 * attempts from the gateway, two from consciousness (its budget is short), each attempt a
 * little under an equal share of the budget so backoff fits too.
 */
export function edgePolicy(edge: CallEdge): EdgePolicy {
  if (!CALL_GRAPH.some((e) => e.from === edge.from && e.to === edge.to)) {
    throw new Error(`${edge.from} -> ${edge.to} is not an edge of the call graph`);
  }
  const budgetMs = CALLER_BUDGET_MS[edge.from] ?? 5000;
  const maxAttempts = edge.from === 'gateway' ? 3 : 2;
  const attemptTimeoutMs = Math.floor((budgetMs * 0.9) / maxAttempts);
  return Object.freeze({ ...BASE_POLICY, budgetMs, maxAttempts, attemptTimeoutMs, slowCallMs: attemptTimeoutMs });
}

/** How a consumer group retries a failing handler before dead-lettering the message. */
export interface ConsumerPolicy {
  /** Handler attempts per message, the first included. */
  readonly maxAttempts: number;
  /** Pause before the first retry, in ms; it doubles per retry, with full jitter. */
  readonly initialBackoffMs: number;
  /** Longest pause between attempts, in ms. */
  readonly maxBackoffMs: number;
}

/**
 * The retry policy of a consumer group (the consumer side of {@link EVENT_FLOWS}). Every group
 * shares one row today; a group that needs another adds its own here.
 */
export function consumerPolicy(groupId: string): ConsumerPolicy {
  if (groupId.length === 0) throw new Error('a consumer group needs a name');
  return Object.freeze({ maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5_000 });
}

/** What one health check found. Matches the answers of `grpc.health.v1` plus UNREACHABLE. */
export const CHECK_STATUSES = ['SERVING', 'NOT_SERVING', 'UNKNOWN', 'SERVICE_UNKNOWN', 'UNREACHABLE'] as const;

export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** The answer of a probe. */
export interface ProbeResult {
  readonly status: CheckStatus;
  /** Why the check failed, when it did. */
  readonly detail?: string | undefined;
}

/**
 * Asks one target whether it is healthy. Implemented by the gRPC and HTTP adapters. Must honour
 * `signal` (the per-check timeout and shutdown) and should not throw; a throw counts as UNREACHABLE.
 */
export type HealthProbe = (signal: AbortSignal) => Promise<ProbeResult>;

/** A service the monitor polls. */
export interface HealthTarget {
  /** Service name, for example `memory`. */
  readonly service: string;
  /** What is polled, for display: `host:port` or a URL. */
  readonly target: string;
  readonly probe: HealthProbe;
}

/** One stored check. */
export interface HealthCheckRecord {
  readonly service: string;
  readonly target: string;
  readonly status: CheckStatus;
  /** Empty when the check passed. */
  readonly detail: string;
  readonly latencyMs: number;
  readonly checkedAt: Date;
}

/** The health of one service as reported to callers. */
export type ServiceHealthStatus = 'SERVING' | 'DEGRADED' | 'DOWN';

/** One row of the system health report. */
export interface ServiceHealth {
  readonly service: string;
  readonly target: string;
  readonly status: ServiceHealthStatus;
  readonly detail: string;
  readonly latencyMs: number;
  /** Undefined when the service has not been checked yet. */
  readonly checkedAt: Date | undefined;
}

/** The health of the whole system. */
export interface SystemHealth {
  readonly status: ServiceHealthStatus;
  readonly services: readonly ServiceHealth[];
  readonly checkedAt: Date;
}

/** Detail reported for a service no check has reached yet. */
export const NOT_CHECKED_DETAIL = 'not checked yet';

/**
 * How a check maps to a reported status: SERVING is SERVING; a server that answered but is not
 * serving (NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN) is DEGRADED; one that did not answer is DOWN.
 */
export function reportedStatus(status: CheckStatus): ServiceHealthStatus {
  if (status === 'SERVING') return 'SERVING';
  return status === 'UNREACHABLE' ? 'DOWN' : 'DEGRADED';
}

/**
 * The aggregate over the polled services: SERVING when every one is serving; DOWN when every
 * one has been checked and none is serving; DEGRADED otherwise, including while some service
 * has not been checked yet (a fresh telemetry instance must not raise a false DOWN). An empty
 * list is SERVING (nothing to watch).
 */
export function aggregateStatus(services: readonly Pick<ServiceHealth, 'status' | 'checkedAt'>[]): ServiceHealthStatus {
  const serving = services.filter((s) => s.status === 'SERVING').length;
  if (serving === services.length) return 'SERVING';
  const allChecked = services.every((s) => s.checkedAt !== undefined);
  return serving === 0 && allChecked ? 'DOWN' : 'DEGRADED';
}

import { telemetry as pb } from '@jamey/proto';
import { CIRCUIT_STATES, DEGRADATION_LEVELS, HEALTH_STATUSES, type SystemHealthJson } from '../schemas/system.js';
import { enumMapping, nonEmpty, optionalIsoTime } from './common.js';

const statuses = enumMapping<(typeof HEALTH_STATUSES)[number], pb.HealthStatus>('HealthStatus', {
  unspecified: pb.HealthStatus.HEALTH_STATUS_UNSPECIFIED,
  serving: pb.HealthStatus.HEALTH_STATUS_SERVING,
  degraded: pb.HealthStatus.HEALTH_STATUS_DEGRADED,
  down: pb.HealthStatus.HEALTH_STATUS_DOWN,
});

// Telemetry's view of each service's dependencies; `unknown` when the service exports none.
const levels = enumMapping<(typeof DEGRADATION_LEVELS)[number] | 'unknown', pb.DegradationLevel>('DegradationLevel', {
  unknown: pb.DegradationLevel.DEGRADATION_LEVEL_UNSPECIFIED,
  full: pb.DegradationLevel.DEGRADATION_LEVEL_FULL,
  degraded: pb.DegradationLevel.DEGRADATION_LEVEL_DEGRADED,
  minimal: pb.DegradationLevel.DEGRADATION_LEVEL_MINIMAL,
  offline: pb.DegradationLevel.DEGRADATION_LEVEL_OFFLINE,
});
const circuits = enumMapping<(typeof CIRCUIT_STATES)[number] | 'unknown', pb.CircuitState>('CircuitState', {
  unknown: pb.CircuitState.CIRCUIT_STATE_UNSPECIFIED,
  closed: pb.CircuitState.CIRCUIT_STATE_CLOSED,
  open: pb.CircuitState.CIRCUIT_STATE_OPEN,
  'half-open': pb.CircuitState.CIRCUIT_STATE_HALF_OPEN,
  isolated: pb.CircuitState.CIRCUIT_STATE_ISOLATED,
});

/** A GetSystemHealth response as JSON. */
export function systemHealthToJson(response: pb.GetSystemHealthResponse): SystemHealthJson {
  return {
    status: statuses.fromProto(response.status),
    services: response.services.map((s) => ({
      service: s.service,
      target: s.target,
      status: statuses.fromProto(s.status),
      detail: nonEmpty(s.detail),
      latencyMs: s.latencyMs,
      checkTime: optionalIsoTime(s.checkTime),
      // Left out when telemetry has not scraped the service's metrics yet.
      ...(s.metricsTime === undefined && s.dependencies.length === 0
        ? {}
        : {
            dependencies: s.dependencies.map((d) => ({ name: d.name, level: levels.fromProto(d.level), circuit: circuits.fromProto(d.circuit) })),
            metricsTime: optionalIsoTime(s.metricsTime),
            metricsDetail: nonEmpty(s.metricsDetail),
          }),
    })),
    checkTime: optionalIsoTime(response.checkTime),
  };
}

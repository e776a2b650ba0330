import { telemetry as pb } from '@jamey/proto';
import { ALERT_SEVERITIES, ALERT_STATES, CIRCUIT_STATES, DEGRADATION_LEVELS, HEALTH_STATUSES, type AlertsJson, type SystemHealthJson } from '../schemas/system.js';
import { enumMapping, isoTime, nonEmpty, optionalIsoTime } from './common.js';

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

const alertStates = enumMapping<(typeof ALERT_STATES)[number], pb.AlertState>('AlertState', {
  pending: pb.AlertState.ALERT_STATE_PENDING,
  firing: pb.AlertState.ALERT_STATE_FIRING,
  resolved: pb.AlertState.ALERT_STATE_RESOLVED,
});
const severities = enumMapping<(typeof ALERT_SEVERITIES)[number], pb.AlertSeverity>('AlertSeverity', {
  info: pb.AlertSeverity.ALERT_SEVERITY_INFO,
  warning: pb.AlertSeverity.ALERT_SEVERITY_WARNING,
  critical: pb.AlertSeverity.ALERT_SEVERITY_CRITICAL,
});

/** The states of a ListAlerts request from the query's lowercase names. */
export function alertStatesToProto(states: readonly (typeof ALERT_STATES)[number][] | undefined): pb.AlertState[] {
  return (states ?? []).map((state) => alertStates.toProto(state));
}

/** A ListAlerts response as JSON. */
export function alertsToJson(response: pb.ListAlertsResponse): AlertsJson {
  return {
    alerts: response.alerts.map((a) => ({
      id: a.id,
      fingerprint: a.fingerprint,
      rule: a.rule,
      severity: severities.fromProto(a.severity),
      state: alertStates.fromProto(a.state),
      labels: { ...a.labels },
      value: Number.isFinite(a.value) ? a.value : null,
      summary: a.summary,
      description: a.description,
      activeTime: isoTime(a.activeTime, 'alert.active_time'),
      fireTime: optionalIsoTime(a.fireTime),
      resolveTime: optionalIsoTime(a.resolveTime),
    })),
  };
}

import { telemetry as pb } from '@jamey/proto';
import type { Alert, AlertState } from '../domain/alerts/alert.js';
import type { Severity } from '../domain/alerts/rules.js';

export const SEVERITY_TO_PROTO: Readonly<Record<Severity, pb.AlertSeverity>> = {
  info: pb.AlertSeverity.ALERT_SEVERITY_INFO,
  warning: pb.AlertSeverity.ALERT_SEVERITY_WARNING,
  critical: pb.AlertSeverity.ALERT_SEVERITY_CRITICAL,
};

export const STATE_TO_PROTO: Readonly<Record<AlertState, pb.AlertState>> = {
  pending: pb.AlertState.ALERT_STATE_PENDING,
  firing: pb.AlertState.ALERT_STATE_FIRING,
  resolved: pb.AlertState.ALERT_STATE_RESOLVED,
};

/** An alert as `jamey.telemetry.v1.Alert`: the ListAlerts item and the event payload. */
export function alertToProto(alert: Alert): pb.Alert {
  return {
    id: alert.id,
    fingerprint: alert.fingerprint,
    rule: alert.rule,
    severity: SEVERITY_TO_PROTO[alert.severity],
    state: STATE_TO_PROTO[alert.state],
    labels: { ...alert.labels },
    value: alert.value,
    summary: alert.summary,
    description: alert.description,
    activeTime: alert.activeAt,
    fireTime: alert.firedAt,
    resolveTime: alert.resolvedAt,
  };
}

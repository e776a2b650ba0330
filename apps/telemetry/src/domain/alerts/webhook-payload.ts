import type { Alert } from './alert.js';

/** Go's zero time, which Alertmanager sends as `endsAt` of an alert that has not ended. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The webhook body for one alert, in Alertmanager's webhook format (version 4), so receivers
 * written for Alertmanager (chat bridges, incident tools) accept it unchanged.
 */
export function webhookPayload(alert: Alert, receiver = 'jamey-telemetry'): Record<string, unknown> {
  const status = alert.state === 'resolved' ? 'resolved' : 'firing';
  const labels = { alertname: alert.rule, severity: alert.severity, ...alert.labels };
  return {
    version: '4',
    receiver,
    status,
    groupKey: alert.fingerprint,
    groupLabels: { alertname: alert.rule },
    commonLabels: labels,
    commonAnnotations: { summary: alert.summary, description: alert.description },
    alerts: [
      {
        status,
        labels,
        annotations: { summary: alert.summary, description: alert.description },
        startsAt: (alert.firedAt ?? alert.activeAt).toISOString(),
        endsAt: alert.resolvedAt?.toISOString() ?? ZERO_TIME,
        fingerprint: alert.fingerprint,
        value: Number.isFinite(alert.value) ? alert.value : String(alert.value),
        id: alert.id,
      },
    ],
  };
}

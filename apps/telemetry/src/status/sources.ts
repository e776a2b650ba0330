import type { Clock } from '@jamey/core';
import type { SystemHealth } from '../domain/health.js';
import type { StatusAlert, StatusDependency, StatusSample, StatusSources } from './snapshot.js';

// The status page states what it reads from the rest of the service as small structural
// interfaces: the metrics collector, the alert store and the metric history satisfy them as they
// are, and the page does not change when they grow.

/** A dependency as the metrics collector reports it; undefined where the service exports none. */
export interface DependencyView {
  readonly name: string;
  readonly level: string | undefined;
  readonly circuit: string | undefined;
}

/** A firing alert as the alert store keeps it. */
export interface FiringAlert {
  readonly rule: string;
  readonly severity: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly summary: string;
  /** When its condition started to hold. */
  readonly activeAt: Date;
  /** When it fired. */
  readonly firedAt: Date | undefined;
}

/** What the status page reads inside the telemetry service. */
export interface TelemetryStatusDeps {
  readonly monitor: { systemHealth(signal?: AbortSignal): Promise<SystemHealth> };
  /** The services whose dependencies are shown. */
  readonly services: readonly string[];
  /** Each service's dependencies as last scraped (the metrics collector's view). */
  readonly metricsView: (service: string) => { readonly dependencies: readonly DependencyView[] };
  /** The alert store. */
  readonly alerts: { list(states: readonly 'firing'[], limit: number, signal?: AbortSignal): Promise<readonly FiringAlert[]> };
  /** The metric history: points with `since <= at < until`. */
  readonly history: { query(query: { since: Date; until: Date }, signal?: AbortSignal): Promise<readonly StatusSample[]> };
  readonly clock: Clock;
  /** Firing alerts listed at most. Default 100. */
  readonly maxAlerts?: number;
}

/** The service an alert is about: its `service` label, else its first label. */
function alertService(alert: FiringAlert): string {
  return alert.labels['service'] ?? Object.values(alert.labels)[0] ?? '';
}

/**
 * The status page's sources over the telemetry service's own parts: the health monitor, the
 * metrics collector's view of each service, the alert store and the metric history.
 */
export function createTelemetryStatusSources(deps: TelemetryStatusDeps): StatusSources {
  const { monitor, metricsView, alerts, history, clock } = deps;
  return {
    health: (signal) => monitor.systemHealth(signal),

    async dependencies() {
      return new Map(
        deps.services.map((service): [string, StatusDependency[]] => [
          service,
          metricsView(service).dependencies.map((d) => ({ name: d.name, level: d.level ?? 'unknown', circuit: d.circuit ?? 'unknown' })),
        ]),
      );
    },

    async alerts(signal) {
      const firing = await alerts.list(['firing'], deps.maxAlerts ?? 100, signal);
      return firing.map(
        (alert): StatusAlert => ({
          rule: alert.rule,
          service: alertService(alert),
          severity: alert.severity,
          state: 'firing',
          summary: alert.summary,
          since: alert.firedAt ?? alert.activeAt,
        }),
      );
    },

    // `until` is exclusive: one millisecond past now includes the current interval.
    history: (since, signal) => history.query({ since, until: new Date(clock.now() + 1) }, signal),
  };
}

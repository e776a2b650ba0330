import type { Clock } from '@jamey/core';
import type { ServiceHealthStatus, SystemHealth } from '../domain/health.js';

/** One dependency of a service (a downstream, `postgres`, `kafka`…) as the service reports it. */
export interface StatusDependency {
  readonly name: string;
  /** Degradation level: `full`, `degraded`, `minimal` or `offline` (`unknown` when not exported). */
  readonly level: string;
  /** Circuit breaker state: `closed`, `open`, `half-open` or `isolated` (`unknown` when it has none). */
  readonly circuit: string;
}

/** An alert as the status page lists it. */
export interface StatusAlert {
  /** The rule that raised it, for example `ServiceNotReady`. */
  readonly rule: string;
  /** The service it is about. */
  readonly service: string;
  /** For example `critical`, `warning`. */
  readonly severity: string;
  readonly state: 'firing' | 'resolved';
  /** One line for people. */
  readonly summary: string;
  /** When it started firing. */
  readonly since: Date;
}

/** The series the status page charts. */
export const STATUS_METRICS = ['request_rate', 'error_rate', 'p99_latency', 'phi'] as const;

export type StatusMetric = (typeof STATUS_METRICS)[number];

/**
 * One stored sample of a charted series:
 * - `request_rate`: requests (HTTP or gRPC calls) served per second;
 * - `error_rate`: the share of those that failed, 0..1;
 * - `p99_latency`: the 99th percentile of their duration, in seconds;
 * - `phi`: consciousness' integrated information Φ (`service` is `consciousness`).
 */
export interface StatusSample {
  readonly metric: StatusMetric;
  readonly service: string;
  readonly at: Date;
  readonly value: number;
}

/**
 * Where the status page reads from. Only `health` is required: the other sources are optional
 * so the page works (with empty sections) before they exist.
 */
export interface StatusSources {
  /** The latest health of every service and the aggregate (the HealthMonitor). */
  readonly health: (signal?: AbortSignal) => Promise<SystemHealth>;
  /** Each service's dependencies, by service name. */
  readonly dependencies?: (signal?: AbortSignal) => Promise<ReadonlyMap<string, readonly StatusDependency[]>>;
  /** Alerts currently firing. */
  readonly alerts?: (signal?: AbortSignal) => Promise<readonly StatusAlert[]>;
  /** Stored samples taken at or after `since`. */
  readonly history?: (since: Date, signal?: AbortSignal) => Promise<readonly StatusSample[]>;
}

/** One service row of the page, as JSON. */
export interface StatusServiceJson {
  readonly service: string;
  readonly target: string;
  readonly status: ServiceHealthStatus;
  readonly detail: string;
  readonly latencyMs: number;
  /** ISO time; null when never checked. */
  readonly checkedAt: string | null;
  readonly dependencies: readonly StatusDependency[];
}

/** One alert, as JSON. */
export interface StatusAlertJson extends Omit<StatusAlert, 'since'> {
  /** ISO time. */
  readonly since: string;
}

/** A chart's data, already in uPlot's aligned shape. */
export interface StatusChartJson {
  /** Unit of the values, for the axis and the text summary. */
  readonly unit: string;
  /** Sample times in Unix seconds, ascending. */
  readonly times: readonly number[];
  /** One series per label (service); `null` where that series has no sample at that time. */
  readonly series: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
}

/** Everything the status page shows, as sent by `/api/status` and each SSE `snapshot` event. */
export interface StatusSnapshotJson {
  /** ISO time the snapshot was taken. */
  readonly generatedAt: string;
  /** The aggregate health. */
  readonly status: ServiceHealthStatus;
  readonly services: readonly StatusServiceJson[];
  /** Firing alerts, most severe first, then oldest first. */
  readonly alerts: readonly StatusAlertJson[];
  /** Milliseconds of history the charts cover. */
  readonly windowMs: number;
  readonly charts: Readonly<Record<'requestRate' | 'errorRate' | 'p99Latency' | 'phi', StatusChartJson>>;
}

/** Options of {@link createStatusSnapshots}. */
export interface StatusSnapshotOptions {
  readonly sources: StatusSources;
  readonly clock: Clock;
  /** How much history the charts show, in milliseconds. Default 30 minutes. */
  readonly windowMs?: number;
}

const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];

const severityRank = (severity: string): number => {
  const rank = SEVERITY_ORDER.indexOf(severity.toLowerCase());
  return rank === -1 ? SEVERITY_ORDER.length : rank;
};

/**
 * Aligns samples of several series on one time axis (uPlot's data shape): the union of their
 * times, ascending, with `null` where a series has no sample. Series are sorted by label.
 */
export function alignSeries(samples: readonly { label: string; at: Date; value: number }[], unit: string): StatusChartJson {
  const times = [...new Set(samples.map((s) => s.at.getTime()))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const byLabel = new Map<string, (number | null)[]>();
  for (const sample of samples) {
    if (!Number.isFinite(sample.value)) continue;
    let values = byLabel.get(sample.label);
    if (!values) byLabel.set(sample.label, (values = times.map(() => null)));
    values[index.get(sample.at.getTime())!] = sample.value;
  }
  const series = [...byLabel.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, values]) => ({ label, values }));
  return { unit, times: times.map((t) => t / 1000), series };
}

/**
 * Creates the function that takes a snapshot of everything the status page shows. The sources
 * are read in parallel. A failing optional source fails the snapshot too: a page that silently
 * showed "no alerts" because the alert store was unreachable would be lying.
 */
export function createStatusSnapshots(options: StatusSnapshotOptions): (signal?: AbortSignal) => Promise<StatusSnapshotJson> {
  const { sources, clock } = options;
  const windowMs = options.windowMs ?? 30 * 60 * 1000;
  return async (signal) => {
    const now = clock.now();
    const [health, dependencies, alerts, samples] = await Promise.all([
      sources.health(signal),
      sources.dependencies?.(signal) ?? new Map<string, readonly StatusDependency[]>(),
      sources.alerts?.(signal) ?? [],
      sources.history?.(new Date(now - windowMs), signal) ?? [],
    ]);
    const chart = (metric: StatusMetric, unit: string): StatusChartJson =>
      alignSeries(
        samples.filter((s) => s.metric === metric).map((s) => ({ label: metric === 'phi' ? 'Φ' : s.service, at: s.at, value: s.value })),
        unit,
      );
    return {
      generatedAt: new Date(now).toISOString(),
      status: health.status,
      services: health.services.map((s) => ({
        service: s.service,
        target: s.target,
        status: s.status,
        detail: s.detail,
        latencyMs: s.latencyMs,
        checkedAt: s.checkedAt ? s.checkedAt.toISOString() : null,
        dependencies: [...(dependencies.get(s.service) ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
      })),
      alerts: alerts
        .filter((a) => a.state === 'firing')
        .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || a.since.getTime() - b.since.getTime())
        .map((a) => ({ ...a, since: a.since.toISOString() })),
      windowMs,
      charts: {
        requestRate: chart('request_rate', 'req/s'),
        errorRate: chart('error_rate', 'ratio'),
        p99Latency: chart('p99_latency', 's'),
        phi: chart('phi', 'bits'),
      },
    };
  };
}

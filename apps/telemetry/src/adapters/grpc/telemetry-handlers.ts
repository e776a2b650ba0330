import { invalidArgument } from '@jamey/core';
import { telemetry as pb } from '@jamey/proto';
import type { ServiceHandlers } from '@jamey/rpc';
import type { Alert } from '../../domain/alerts/alert.js';
import type { AlertStore } from '../../domain/alerts/engine.js';
import type { HealthMonitor } from '../../domain/health-monitor.js';
import type { ServiceHealthStatus } from '../../domain/health.js';
import type { DependencyCircuit, DependencyLevel, MetricsView } from '../../domain/metrics/collector.js';
import type { HistoryMetric, HistoryPoint, MetricHistoryStore } from '../../domain/metrics/history.js';
import { alertToProto } from '../alert-proto.js';

const STATUS_TO_PROTO: Readonly<Record<ServiceHealthStatus, pb.HealthStatus>> = {
  SERVING: pb.HealthStatus.HEALTH_STATUS_SERVING,
  DEGRADED: pb.HealthStatus.HEALTH_STATUS_DEGRADED,
  DOWN: pb.HealthStatus.HEALTH_STATUS_DOWN,
};

const LEVEL_TO_PROTO: Readonly<Record<DependencyLevel, pb.DegradationLevel>> = {
  full: pb.DegradationLevel.DEGRADATION_LEVEL_FULL,
  degraded: pb.DegradationLevel.DEGRADATION_LEVEL_DEGRADED,
  minimal: pb.DegradationLevel.DEGRADATION_LEVEL_MINIMAL,
  offline: pb.DegradationLevel.DEGRADATION_LEVEL_OFFLINE,
};

const CIRCUIT_TO_PROTO: Readonly<Record<DependencyCircuit, pb.CircuitState>> = {
  closed: pb.CircuitState.CIRCUIT_STATE_CLOSED,
  open: pb.CircuitState.CIRCUIT_STATE_OPEN,
  'half-open': pb.CircuitState.CIRCUIT_STATE_HALF_OPEN,
  isolated: pb.CircuitState.CIRCUIT_STATE_ISOLATED,
};

const STATE_FROM_PROTO: Readonly<Partial<Record<pb.AlertState, Alert['state']>>> = {
  [pb.AlertState.ALERT_STATE_PENDING]: 'pending',
  [pb.AlertState.ALERT_STATE_FIRING]: 'firing',
  [pb.AlertState.ALERT_STATE_RESOLVED]: 'resolved',
};

const METRIC_FROM_PROTO: Readonly<Partial<Record<pb.HistoryMetric, HistoryMetric>>> = {
  [pb.HistoryMetric.HISTORY_METRIC_REQUEST_RATE]: 'request_rate',
  [pb.HistoryMetric.HISTORY_METRIC_ERROR_RATE]: 'error_rate',
  [pb.HistoryMetric.HISTORY_METRIC_LATENCY_P99]: 'p99_latency',
  [pb.HistoryMetric.HISTORY_METRIC_PHI]: 'phi',
};
const METRIC_TO_PROTO = Object.fromEntries(Object.entries(METRIC_FROM_PROTO).map(([k, v]) => [v, Number(k)])) as Record<HistoryMetric, pb.HistoryMetric>;

/** Limits of the telemetry API. */
export const TELEMETRY_LIMITS = Object.freeze({
  defaultAlerts: 100,
  maxAlerts: 1000,
  /** Default history range: the last hour. */
  defaultHistoryMs: 60 * 60 * 1000,
  /** Longest history range one call may ask for: 31 days. */
  maxHistoryMs: 31 * 24 * 60 * 60 * 1000,
  maxServices: 64,
});

/** What the handlers read. */
export interface TelemetryHandlerDeps {
  readonly monitor: HealthMonitor;
  /** Each service's dependencies and scrape status, from the metrics collector. */
  readonly metricsView: (service: string) => MetricsView;
  readonly alerts: Pick<AlertStore, 'list'>;
  readonly history: Pick<MetricHistoryStore, 'query'>;
  /** Length of one history interval, in ms. */
  readonly historyIntervalMs: number;
  readonly now: () => number;
}

/** gRPC handlers of `jamey.telemetry.v1.TelemetryService`. */
export function createTelemetryHandlers(deps: TelemetryHandlerDeps): ServiceHandlers<pb.TelemetryServiceServer> {
  const { monitor, metricsView, alerts, history } = deps;
  return {
    async getSystemHealth(_request, { signal }) {
      const health = await monitor.systemHealth(signal);
      return {
        status: STATUS_TO_PROTO[health.status],
        services: health.services.map((service) => {
          const view = metricsView(service.service);
          return {
            service: service.service,
            target: service.target,
            status: STATUS_TO_PROTO[service.status],
            detail: service.detail,
            latencyMs: service.latencyMs,
            checkTime: service.checkedAt,
            dependencies: view.dependencies.map((d) => ({
              name: d.name,
              level: d.level === undefined ? pb.DegradationLevel.DEGRADATION_LEVEL_UNSPECIFIED : LEVEL_TO_PROTO[d.level],
              circuit: d.circuit === undefined ? pb.CircuitState.CIRCUIT_STATE_UNSPECIFIED : CIRCUIT_TO_PROTO[d.circuit],
            })),
            metricsTime: view.scrapedAt,
            metricsDetail: view.error ?? '',
          };
        }),
        checkTime: health.checkedAt,
      };
    },

    async listAlerts(request, { signal }) {
      const states = request.states.map((state) => {
        const mapped = STATE_FROM_PROTO[state];
        if (mapped === undefined) throw invalidArgument('states', `states: ${state} is not PENDING, FIRING or RESOLVED`);
        return mapped;
      });
      if (!Number.isInteger(request.pageSize) || request.pageSize < 0) throw invalidArgument('page_size', 'page_size must be a non-negative integer');
      const limit = request.pageSize === 0 ? TELEMETRY_LIMITS.defaultAlerts : Math.min(request.pageSize, TELEMETRY_LIMITS.maxAlerts);
      const listed = await alerts.list(states.length === 0 ? ['pending', 'firing'] : [...new Set(states)], limit, signal);
      return { alerts: listed.map(alertToProto) };
    },

    async getMetricHistory(request, { signal }) {
      const metrics = request.metrics.map((metric) => {
        const mapped = METRIC_FROM_PROTO[metric];
        if (mapped === undefined) throw invalidArgument('metrics', `metrics: ${metric} is not a history metric`);
        return mapped;
      });
      if (request.services.length > TELEMETRY_LIMITS.maxServices) throw invalidArgument('services', `at most ${TELEMETRY_LIMITS.maxServices} services`);
      for (const service of request.services) {
        if (!/^[a-z][a-z0-9-]{0,62}$/.test(service)) throw invalidArgument('services', `services: "${service.slice(0, 64)}" is not a service name`);
      }
      const until = request.endTime ?? new Date(deps.now());
      const since = request.startTime ?? new Date(until.getTime() - TELEMETRY_LIMITS.defaultHistoryMs);
      if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) throw invalidArgument('start_time', 'start_time and end_time must be valid times');
      if (since.getTime() >= until.getTime()) throw invalidArgument('end_time', 'end_time must be after start_time');
      if (until.getTime() - since.getTime() > TELEMETRY_LIMITS.maxHistoryMs) throw invalidArgument('start_time', 'the range may cover at most 31 days');
      const points = await history.query({ since, until, services: request.services, metrics }, signal);
      return { series: toSeries(points), intervalMs: deps.historyIntervalMs };
    },
  };
}

/** Groups points (ordered by service, metric, time) into series. */
function toSeries(points: readonly HistoryPoint[]): pb.MetricSeries[] {
  const series = new Map<string, pb.MetricSeries>();
  for (const point of points) {
    const key = `${point.service}\u0000${point.metric}`;
    let entry = series.get(key);
    if (!entry) series.set(key, (entry = { service: point.service, metric: METRIC_TO_PROTO[point.metric], points: [] }));
    entry.points.push({ time: point.at, value: point.value });
  }
  return [...series.values()];
}

import type { Clock } from '@jamey/core';
import { evaluate, type Expr } from './expr.js';
import { errorRatio, latencyQuantile, METRICS, requestRate } from './queries.js';
import type { SampleWindow } from './samples.js';

/**
 * The series telemetry keeps per service for the status page's charts. Names match the status
 * page's `StatusMetric`.
 * - `request_rate`: requests served per second;
 * - `error_rate`: the share of them that failed, 0..1 (absent for an interval without requests);
 * - `p99_latency`: their 99th percentile duration, in seconds (absent without requests);
 * - `phi`: consciousness's Φ, `jamey_consciousness_phi_bits` (absent while consciousness cannot estimate it).
 */
export const HISTORY_METRICS = ['request_rate', 'error_rate', 'p99_latency', 'phi'] as const;
export type HistoryMetric = (typeof HISTORY_METRICS)[number];

/** One value of one series: the interval starting at `at`. */
export interface HistoryPoint {
  readonly service: string;
  readonly metric: HistoryMetric;
  readonly at: Date;
  readonly value: number;
}

/** Filters of a history query. */
export interface HistoryQuery {
  /** Inclusive. */
  readonly since: Date;
  /** Exclusive. */
  readonly until: Date;
  /** Empty or undefined: every service. */
  readonly services?: readonly string[] | undefined;
  /** Empty or undefined: every metric. */
  readonly metrics?: readonly HistoryMetric[] | undefined;
}

/** Where history is kept. Implemented by the Postgres adapter. */
export interface MetricHistoryStore {
  /** Upserts the points (one per service, metric and interval) and prunes points before `pruneBefore`. */
  record(points: readonly HistoryPoint[], pruneBefore: Date, signal?: AbortSignal): Promise<void>;
  /** Points in the query's range, by service, metric and time. */
  query(query: HistoryQuery, signal?: AbortSignal): Promise<HistoryPoint[]>;
}

/** The query of each history series over the trailing `windowMs`, by service. */
export function historyQueries(windowMs: number): Readonly<Record<HistoryMetric, Expr>> {
  const by = ['service'];
  return {
    request_rate: requestRate(by, [], windowMs),
    error_rate: errorRatio(by, [], windowMs),
    p99_latency: latencyQuantile(0.99, by, [], windowMs),
    phi: { kind: 'aggregate', op: 'max', by, expr: { kind: 'selector', metric: METRICS.phi, matchers: [] } },
  };
}

/** Dependencies of {@link createHistoryRecorder}. */
export interface HistoryRecorderDeps {
  readonly window: SampleWindow;
  readonly store: MetricHistoryStore;
  readonly clock: Clock;
  /** Length of one interval, in ms: each point covers the trailing interval. */
  readonly intervalMs: number;
  /** Points older than this many ms are pruned. */
  readonly retentionMs: number;
}

/** Writes the history series each round. */
export interface HistoryRecorder {
  /**
   * Evaluates every series over the trailing interval and upserts it at the start of the
   * current interval: the last round of an interval has the final say. Resolves with the points.
   */
  recordOnce(signal?: AbortSignal): Promise<readonly HistoryPoint[]>;
}

/** Creates a {@link HistoryRecorder}. */
export function createHistoryRecorder(deps: HistoryRecorderDeps): HistoryRecorder {
  const { window, store, clock, intervalMs, retentionMs } = deps;
  const queries = historyQueries(intervalMs);
  return {
    async recordOnce(signal) {
      const now = clock.now();
      const at = new Date(Math.floor(now / intervalMs) * intervalMs);
      const points: HistoryPoint[] = [];
      for (const metric of HISTORY_METRICS) {
        for (const point of evaluate(queries[metric], window, now)) {
          const service = point.labels['service'];
          if (service === undefined || !Number.isFinite(point.value)) continue;
          points.push({ service, metric, at, value: point.value });
        }
      }
      await store.record(points, new Date(now - retentionMs), signal);
      return points;
    },
  };
}

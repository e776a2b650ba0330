import type { Clock } from '@jamey/core';
import { METRICS } from './queries.js';
import type { Sample, SampleWindow } from './samples.js';

/** Reads one service's metrics; rejects when it cannot (refused, timed out, bad answer). */
export type ScrapeFn = (signal: AbortSignal) => Promise<Sample[]>;

/** A service whose `/metrics` telemetry scrapes. */
export interface ScrapeTarget {
  readonly service: string;
  /** What is scraped, for display: a URL, or `self`. */
  readonly target: string;
  readonly scrape: ScrapeFn;
}

/** The outcome of one scrape. */
export interface ScrapeResult {
  readonly service: string;
  readonly at: Date;
  /** Undefined when the scrape succeeded. */
  readonly error: string | undefined;
}

/** The degradation levels telemetry reads from `jamey_degradation_level` (0 … 3). */
export const DEGRADATION_LEVELS = ['full', 'degraded', 'minimal', 'offline'] as const;
export type DependencyLevel = (typeof DEGRADATION_LEVELS)[number];
export type DependencyCircuit = 'closed' | 'open' | 'half-open' | 'isolated';

/** One dependency of a service, as the service reports it. */
export interface DependencyState {
  readonly name: string;
  /** Undefined when the service exports no level for it. */
  readonly level: DependencyLevel | undefined;
  /** Undefined when the service has no breaker for it. */
  readonly circuit: DependencyCircuit | undefined;
}

/** What telemetry knows of a service's metrics. */
export interface MetricsView {
  readonly dependencies: readonly DependencyState[];
  /** The latest successful scrape; undefined before the first. */
  readonly scrapedAt: Date | undefined;
  /** Why the latest scrape failed, when it did. */
  readonly error: string | undefined;
}

/** Dependencies of {@link createMetricsCollector}. */
export interface MetricsCollectorDeps {
  readonly targets: readonly ScrapeTarget[];
  readonly window: SampleWindow;
  readonly clock: Clock;
  /** Budget of one scrape, in ms. */
  readonly scrapeTimeoutMs: number;
}

/** Scrapes every service each round into the sample window, and answers the degradation view. */
export interface MetricsCollector {
  /**
   * Scrapes every target in parallel, each within the scrape timeout, and files the samples,
   * plus a synthetic `up{service}` (1 scraped, 0 not), as Prometheus does. Rejects with the
   * signal's reason when it aborts.
   */
  collectOnce(signal?: AbortSignal): Promise<ScrapeResult[]>;
  /** The latest view of `service`'s metrics. */
  view(service: string): MetricsView;
}

// When replicas disagree, the worst state shows: one open breaker is worth knowing about.
const CIRCUIT_PRIORITY: readonly DependencyCircuit[] = ['open', 'isolated', 'half-open', 'closed'];

/** Creates a {@link MetricsCollector}. */
export function createMetricsCollector(deps: MetricsCollectorDeps): MetricsCollector {
  const { targets, window, clock, scrapeTimeoutMs } = deps;
  const last = new Map<string, { scrapedAt: Date | undefined; error: string | undefined }>();

  async function scrapeOne(target: ScrapeTarget, signal: AbortSignal | undefined): Promise<ScrapeResult> {
    const timeout = AbortSignal.timeout(scrapeTimeoutMs);
    const scrapeSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let samples: Sample[] | undefined;
    let error: string | undefined;
    try {
      samples = await target.scrape(scrapeSignal);
    } catch (caught) {
      signal?.throwIfAborted();
      error = timeout.aborted ? `scrape timed out after ${scrapeTimeoutMs} ms` : describe(caught);
    }
    const at = clock.now();
    if (samples) window.record(target.service, at, samples);
    window.record(target.service, at, [{ name: METRICS.up, labels: {}, value: samples ? 1 : 0 }], 'target');
    const previous = last.get(target.service);
    last.set(target.service, { scrapedAt: samples ? new Date(at) : previous?.scrapedAt, error });
    return { service: target.service, at: new Date(at), error };
  }

  return {
    async collectOnce(signal) {
      signal?.throwIfAborted();
      const results = await Promise.all(targets.map((target) => scrapeOne(target, signal)));
      signal?.throwIfAborted();
      return results;
    },

    view(service) {
      const now = clock.now();
      const scope = [{ label: 'service', op: '=' as const, value: service }];
      const byName = new Map<string, { level?: number; circuit?: DependencyCircuit }>();
      for (const point of window.latest(METRICS.degradationLevel, scope, now)) {
        const name = point.labels['dependency'];
        if (name === undefined) continue;
        const entry = byName.get(name) ?? {};
        entry.level = Math.max(entry.level ?? 0, point.value);
        byName.set(name, entry);
      }
      for (const point of window.latest(METRICS.breakerState, scope, now)) {
        const name = point.labels['dependency'];
        const state = point.labels['state'] as DependencyCircuit | undefined;
        if (name === undefined || point.value !== 1 || state === undefined || !CIRCUIT_PRIORITY.includes(state)) continue;
        const entry = byName.get(name) ?? {};
        if (entry.circuit === undefined || CIRCUIT_PRIORITY.indexOf(state) < CIRCUIT_PRIORITY.indexOf(entry.circuit)) entry.circuit = state;
        byName.set(name, entry);
      }
      const dependencies = [...byName.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, entry]) => ({
          name,
          level: entry.level === undefined ? undefined : DEGRADATION_LEVELS[Math.min(3, Math.max(0, Math.round(entry.level)))],
          circuit: entry.circuit,
        }));
      const status = last.get(service);
      return { dependencies, scrapedAt: status?.scrapedAt, error: status?.error };
    },
  };
}

// undici reports "fetch failed" and keeps the socket error (ECONNREFUSED, …) in `cause`.
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`;
  return error.message;
}

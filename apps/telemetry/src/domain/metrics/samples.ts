/**
 * Scraped samples, and the bounded in-memory window telemetry keeps of them.
 *
 * A service can run several instances (replicas, or a restarted process). Each scrape is filed
 * under the instance that answered, identified by its `process_start_time_seconds`, so counters
 * of different processes are never subtracted from each other: like Prometheus, which keeps one
 * series per target, increases are computed per instance and summed afterwards.
 */

/** One sample as exposed on `/metrics`: a histogram contributes its `_bucket`, `_count` and `_sum`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A series at one point: its labels (with `service` added) and value. */
export interface Point {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A label matcher, as in PromQL: `=` equality or `=~` a fully anchored regular expression. */
export interface LabelMatcher {
  readonly label: string;
  readonly op: '=' | '=~';
  readonly value: string;
}

/** The metric naming the process that answered a scrape (prom-client's default metrics). */
export const INSTANCE_METRIC = 'process_start_time_seconds';

/** One series of an instance; `labels` include `service`. */
interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * One scrape, stored compactly: the value of series `i` of its instance is `values[i]`, when
 * `present[i]` is 1. Series first seen later are beyond the arrays' length.
 */
interface StoredScrape {
  readonly at: number;
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

interface Instance {
  readonly series: Series[];
  /** Series key → index in {@link Instance.series}. */
  readonly index: Map<string, number>;
  /** Metric name → indexes of its series. */
  readonly byName: Map<string, number[]>;
  readonly scrapes: StoredScrape[];
  /** Series with an index below this were in the instance's first scrape; later ones started from 0. */
  readonly firstCount: number;
}

/** Options of {@link createSampleWindow}. */
export interface SampleWindowOptions {
  /** Scrapes older than this many milliseconds are dropped. */
  readonly retentionMs: number;
  /**
   * An instance whose latest scrape is older than this many milliseconds is gone: its series no
   * longer count as current (Prometheus's lookback delta, default 5 minutes).
   */
  readonly staleAfterMs: number;
  /** Most scrapes kept per instance, whatever their age. Default 2000. */
  readonly maxScrapesPerInstance?: number;
  /** Only samples of these metric names are kept; all when undefined. */
  readonly keep?: ReadonlySet<string>;
}

/** The window of recent scrapes of every service. */
export interface SampleWindow {
  /**
   * Files one scrape of `service` taken at `at` (epoch ms), and drops what has aged out. The
   * instance is read from the samples' {@link INSTANCE_METRIC} unless `instance` is given (for
   * samples about the target rather than a process, such as the synthetic `up`).
   */
  record(service: string, at: number, samples: readonly Sample[], instance?: string): void;
  /** The latest value of every current series of `metric` matching `matchers`. */
  latest(metric: string, matchers: readonly LabelMatcher[], now: number): Point[];
  /**
   * How much each current series of counter `metric` grew over the `windowMs` before `now`,
   * counter resets included (a drop means the counter restarted from 0). A series that appeared
   * after its instance's first scrape grew from 0. Series with fewer than two samples in the
   * window, and no such start, contribute nothing, as in PromQL.
   */
  increase(metric: string, matchers: readonly LabelMatcher[], now: number, windowMs: number): Point[];
  /** The services with at least one current instance. */
  services(now: number): string[];
}

/** The canonical key of a series: its name and sorted labels. */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${sorted.join(',')}}`;
}

// Compiled matcher regexes. Keyed weakly by the matcher object, which compiled rules keep for
// their lifetime, so the cache neither grows without bound nor recompiles each round.
const regexCache = new WeakMap<LabelMatcher, RegExp>();

/** Whether `labels` satisfy every matcher; a missing label reads as "", as in PromQL. */
export function matches(labels: Readonly<Record<string, string>>, matchers: readonly LabelMatcher[]): boolean {
  return matchers.every((m) => {
    const value = labels[m.label] ?? '';
    if (m.op === '=') return value === m.value;
    let regex = regexCache.get(m);
    if (!regex) regexCache.set(m, (regex = new RegExp(`^(?:${m.value})$`)));
    return regex.test(value);
  });
}

/** Creates an empty {@link SampleWindow}. */
export function createSampleWindow(options: SampleWindowOptions): SampleWindow {
  const { retentionMs, staleAfterMs, keep } = options;
  const maxScrapes = options.maxScrapesPerInstance ?? 2000;
  /** service → instance id → scrapes, oldest first. */
  const services = new Map<string, Map<string, Instance>>();

  const prune = (now: number): void => {
    for (const [service, instances] of services) {
      for (const [id, instance] of instances) {
        const { scrapes } = instance;
        let drop = 0;
        while (drop < scrapes.length && scrapes[drop]!.at < now - retentionMs) drop++;
        if (scrapes.length - drop > maxScrapes) drop = scrapes.length - maxScrapes;
        // The newest scrape stays while it is current, even past the retention.
        if (drop === scrapes.length && scrapes.at(-1)!.at >= now - staleAfterMs) drop--;
        if (drop > 0) scrapes.splice(0, drop);
        if (scrapes.length === 0) instances.delete(id);
      }
      if (instances.size === 0) services.delete(service);
    }
  };

  const current = function* (now: number): Generator<[string, Instance]> {
    for (const [service, instances] of services) {
      for (const instance of instances.values()) {
        const last = instance.scrapes.at(-1);
        if (last && last.at >= now - staleAfterMs && last.at <= now) yield [service, instance];
      }
    }
  };

  /** Indexes of `instance`'s series of `metric` that satisfy `matchers`. */
  const selected = (instance: Instance, metric: string, matchers: readonly LabelMatcher[]): number[] =>
    (instance.byName.get(metric) ?? []).filter((i) => matches(instance.series[i]!.labels, matchers));

  const has = (scrape: StoredScrape, i: number): boolean => i < scrape.present.length && scrape.present[i] === 1;

  return {
    record(service, at, samples, instanceId) {
      const startTime = samples.find((s) => s.name === INSTANCE_METRIC)?.value;
      const id = instanceId ?? (startTime === undefined ? 'unknown' : `process:${startTime}`);
      let instances = services.get(service);
      if (!instances) services.set(service, (instances = new Map()));
      let instance = instances.get(id);
      const fresh = instance === undefined;
      instance ??= { series: [], index: new Map(), byName: new Map(), scrapes: [], firstCount: 0 };
      // Scrapes arrive in time order; one from the past (a clock step back) is dropped.
      const last = instance.scrapes.at(-1);
      if (last && last.at >= at) return;
      const kept = keep ? samples.filter((sample) => keep.has(sample.name)) : samples;
      const indexes = kept.map((sample) => {
        const labels = { ...sample.labels, service };
        const key = seriesKey(sample.name, labels);
        let i = instance.index.get(key);
        if (i === undefined) {
          i = instance.series.push({ name: sample.name, labels: Object.freeze(labels) }) - 1;
          instance.index.set(key, i);
          const byName = instance.byName.get(sample.name);
          if (byName) byName.push(i);
          else instance.byName.set(sample.name, [i]);
        }
        return i;
      });
      const values = new Float64Array(instance.series.length);
      const present = new Uint8Array(instance.series.length);
      kept.forEach((sample, k) => {
        values[indexes[k]!] = sample.value;
        present[indexes[k]!] = 1;
      });
      instance.scrapes.push({ at, values, present });
      if (fresh) instances.set(id, { ...instance, firstCount: instance.series.length });
      prune(at);
    },

    latest(metric, matchers, now) {
      const points: Point[] = [];
      for (const [, instance] of current(now)) {
        const last = instance.scrapes.at(-1)!;
        for (const i of selected(instance, metric, matchers)) {
          if (has(last, i)) points.push({ labels: instance.series[i]!.labels, value: last.values[i]! });
        }
      }
      return points;
    },

    increase(metric, matchers, now, windowMs) {
      const points: Point[] = [];
      for (const [, instance] of current(now)) {
        const inWindow = instance.scrapes.filter((s) => s.at >= now - windowMs && s.at <= now);
        if (inWindow.length === 0) continue;
        for (const i of selected(instance, metric, matchers)) {
          // A series the instance's first scrape lacked did not exist yet: it grew from 0.
          const startedLater = i >= instance.firstCount;
          let previous: number | undefined;
          let total = 0;
          let samples = 0;
          for (const scrape of inWindow) {
            if (!has(scrape, i)) {
              if (previous === undefined && startedLater) previous = 0;
              continue;
            }
            const value = scrape.values[i]!;
            samples++;
            if (previous !== undefined) total += value >= previous ? value - previous : value;
            previous = value;
          }
          const startedInWindow = startedLater && !has(inWindow[0]!, i);
          if (samples > 0 && (samples >= 2 || startedInWindow)) points.push({ labels: instance.series[i]!.labels, value: total });
        }
      }
      return points;
    },

    services(now) {
      const names = new Set<string>();
      for (const [service] of current(now)) names.add(service);
      return [...names];
    },
  };
}

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

interface StoredScrape {
  readonly at: number;
  readonly series: ReadonlyMap<string, Point>;
}

interface Instance {
  readonly scrapes: StoredScrape[];
  /** Series keys seen in this instance's first stored scrape: a later newcomer started from 0. */
  readonly firstSeen: ReadonlySet<string>;
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

const regexCache = new Map<string, RegExp>();

/** Whether `labels` satisfy every matcher; a missing label reads as "", as in PromQL. */
export function matches(labels: Readonly<Record<string, string>>, matchers: readonly LabelMatcher[]): boolean {
  return matchers.every((m) => {
    const value = labels[m.label] ?? '';
    if (m.op === '=') return value === m.value;
    let regex = regexCache.get(m.value);
    if (!regex) regexCache.set(m.value, (regex = new RegExp(`^(?:${m.value})$`)));
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

  return {
    record(service, at, samples, instanceId) {
      const startTime = samples.find((s) => s.name === INSTANCE_METRIC)?.value;
      const id = instanceId ?? (startTime === undefined ? 'unknown' : `process:${startTime}`);
      const series = new Map<string, Point>();
      for (const sample of samples) {
        if (keep && !keep.has(sample.name)) continue;
        const labels = { ...sample.labels, service };
        series.set(seriesKey(sample.name, labels), { labels: { __name__: sample.name, ...labels }, value: sample.value });
      }
      let instances = services.get(service);
      if (!instances) services.set(service, (instances = new Map()));
      const instance = instances.get(id);
      if (instance) {
        // Scrapes arrive in time order; one from the past (a clock step back) replaces nothing.
        if (instance.scrapes.length === 0 || instance.scrapes.at(-1)!.at < at) instance.scrapes.push({ at, series });
      } else {
        instances.set(id, { scrapes: [{ at, series }], firstSeen: new Set(series.keys()) });
      }
      prune(at);
    },

    latest(metric, matchers, now) {
      const points: Point[] = [];
      for (const [, instance] of current(now)) {
        for (const point of instance.scrapes.at(-1)!.series.values()) {
          if (point.labels['__name__'] === metric && matches(point.labels, matchers)) points.push(stripName(point));
        }
      }
      return points;
    },

    increase(metric, matchers, now, windowMs) {
      const points: Point[] = [];
      for (const [, instance] of current(now)) {
        const inWindow = instance.scrapes.filter((s) => s.at >= now - windowMs && s.at <= now);
        if (inWindow.length === 0) continue;
        const keys = new Set<string>();
        for (const scrape of inWindow) {
          for (const [key, point] of scrape.series) if (point.labels['__name__'] === metric && matches(point.labels, matchers)) keys.add(key);
        }
        for (const key of keys) {
          let previous: number | undefined;
          let total = 0;
          let labels: Readonly<Record<string, string>> | undefined;
          let samples = 0;
          for (const scrape of inWindow) {
            const point = scrape.series.get(key);
            if (!point) {
              // Absent after the instance's first scrape: the counter did not exist yet, so 0.
              if (previous === undefined && !instance.firstSeen.has(key)) previous = 0;
              continue;
            }
            labels = point.labels;
            samples++;
            if (previous !== undefined) total += point.value >= previous ? point.value - previous : point.value;
            previous = point.value;
          }
          const startedInWindow = !instance.firstSeen.has(key) && inWindow[0]!.series.get(key) === undefined;
          if (labels && (samples >= 2 || startedInWindow)) points.push(stripName({ labels, value: total }));
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

function stripName(point: Point): Point {
  const { __name__: _name, ...labels } = point.labels;
  return { labels, value: point.value };
}

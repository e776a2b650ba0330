import { matches, type LabelMatcher, type Point, type SampleWindow } from './samples.js';

/**
 * A small query language: the subset of PromQL that Jamey's alert rules and history need, as a
 * tree. The same tree is rendered as PromQL text for Prometheus ({@link toPromQL}) and
 * evaluated natively by telemetry over its scraped samples ({@link evaluate}), so both read the
 * rules the same way.
 */
export type Expr =
  /** The latest value of each series: `metric{matchers}`. */
  | { readonly kind: 'selector'; readonly metric: string; readonly matchers: readonly LabelMatcher[] }
  /** `increase(metric{matchers}[window])` or `rate(…)` (the increase per second). */
  | { readonly kind: 'increase' | 'rate'; readonly metric: string; readonly matchers: readonly LabelMatcher[]; readonly windowMs: number }
  /** `sum by (labels) (expr)`, `max …`, `min …`. */
  | { readonly kind: 'aggregate'; readonly op: 'sum' | 'max' | 'min'; readonly by: readonly string[]; readonly expr: Expr }
  /** `left / right`, matching series with identical labels. */
  | { readonly kind: 'divide'; readonly left: Expr; readonly right: Expr }
  /** `left or right`: every left series, plus right series whose labels no left series has. */
  | { readonly kind: 'or'; readonly left: Expr; readonly right: Expr }
  /** `left and right`: left series whose labels some right series has. */
  | { readonly kind: 'and'; readonly left: Expr; readonly right: Expr }
  /** `histogram_quantile(q, expr)` over bucket series carrying `le`. */
  | { readonly kind: 'quantile'; readonly q: number; readonly expr: Expr }
  /** `expr > value` and friends, as a filter: series for which the comparison holds. */
  | { readonly kind: 'compare'; readonly op: '>' | '>=' | '<' | '<=' | '==' | '!='; readonly expr: Expr; readonly value: number };

/** Formats milliseconds as a Prometheus duration: `5m`, `90s`, `1h30m`, `250ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`a duration must be a whole number of ms ≥ 0, got ${ms}`);
  if (ms === 0) return '0s';
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let text = '';
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}

/** Parses a Prometheus duration (`30s`, `5m`, `1h30m`, `250ms`) into milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  if (!/^((\d+)(ms|s|m|h|d))+$/.test(text)) return undefined;
  const sizes: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(amount) * sizes[unit!]!;
  return Number.isSafeInteger(total) ? total : undefined;
}

const selectorText = (metric: string, matchers: readonly LabelMatcher[]): string =>
  matchers.length === 0 ? metric : `${metric}{${matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(',')}}`;

/** The PromQL text of `expr`. Sub-expressions are parenthesized, so precedence never matters. */
export function toPromQL(expr: Expr): string {
  switch (expr.kind) {
    case 'selector':
      return selectorText(expr.metric, expr.matchers);
    case 'increase':
    case 'rate':
      return `${expr.kind}(${selectorText(expr.metric, expr.matchers)}[${formatDuration(expr.windowMs)}])`;
    case 'aggregate':
      return `${expr.op} by (${expr.by.join(', ')}) (${toPromQL(expr.expr)})`;
    case 'divide':
      return `(${toPromQL(expr.left)}) / (${toPromQL(expr.right)})`;
    case 'or':
    case 'and':
      return `(${toPromQL(expr.left)}) ${expr.kind} (${toPromQL(expr.right)})`;
    case 'quantile':
      return `histogram_quantile(${expr.q}, ${toPromQL(expr.expr)})`;
    case 'compare':
      return `(${toPromQL(expr.expr)}) ${expr.op} ${expr.value}`;
  }
}

/** The metric names `expr` reads, so the sample window keeps only those. */
export function metricsOf(expr: Expr): string[] {
  switch (expr.kind) {
    case 'selector':
    case 'increase':
    case 'rate':
      return [expr.metric];
    case 'aggregate':
    case 'quantile':
    case 'compare':
      return metricsOf(expr.expr);
    case 'divide':
    case 'or':
    case 'and':
      return [...metricsOf(expr.left), ...metricsOf(expr.right)];
  }
}

const labelKey = (labels: Readonly<Record<string, string>>): string =>
  JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );

const COMPARE: Readonly<Record<Extract<Expr, { kind: 'compare' }>['op'], (a: number, b: number) => boolean>> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** Evaluates `expr` at `now` over the samples in `window`, with PromQL's semantics. */
export function evaluate(expr: Expr, window: SampleWindow, now: number): Point[] {
  switch (expr.kind) {
    case 'selector':
      return window.latest(expr.metric, expr.matchers, now);
    case 'increase':
      return window.increase(expr.metric, expr.matchers, now, expr.windowMs);
    case 'rate':
      return window.increase(expr.metric, expr.matchers, now, expr.windowMs).map((p) => ({ labels: p.labels, value: p.value / (expr.windowMs / 1000) }));
    case 'aggregate': {
      const groups = new Map<string, { labels: Record<string, string>; values: number[] }>();
      for (const point of evaluate(expr.expr, window, now)) {
        const labels = Object.fromEntries(expr.by.filter((l) => point.labels[l] !== undefined).map((l) => [l, point.labels[l]!]));
        const key = labelKey(labels);
        const group = groups.get(key) ?? { labels, values: [] };
        group.values.push(point.value);
        groups.set(key, group);
      }
      const reduce = { sum: (v: number[]) => v.reduce((a, b) => a + b, 0), max: (v: number[]) => Math.max(...v), min: (v: number[]) => Math.min(...v) }[expr.op];
      return [...groups.values()].map((g) => ({ labels: g.labels, value: reduce(g.values) }));
    }
    case 'divide': {
      const right = new Map(evaluate(expr.right, window, now).map((p) => [labelKey(p.labels), p.value]));
      return evaluate(expr.left, window, now).flatMap((p) => {
        const divisor = right.get(labelKey(p.labels));
        return divisor === undefined ? [] : [{ labels: p.labels, value: p.value / divisor }];
      });
    }
    case 'or': {
      const left = evaluate(expr.left, window, now);
      const seen = new Set(left.map((p) => labelKey(p.labels)));
      return [...left, ...evaluate(expr.right, window, now).filter((p) => !seen.has(labelKey(p.labels)))];
    }
    case 'and': {
      const right = new Set(evaluate(expr.right, window, now).map((p) => labelKey(p.labels)));
      return evaluate(expr.left, window, now).filter((p) => right.has(labelKey(p.labels)));
    }
    case 'quantile': {
      const groups = new Map<string, { labels: Record<string, string>; buckets: { le: number; count: number }[] }>();
      for (const point of evaluate(expr.expr, window, now)) {
        const { le, ...labels } = point.labels;
        if (le === undefined) continue;
        const key = labelKey(labels);
        const group = groups.get(key) ?? { labels, buckets: [] };
        group.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: point.value });
        groups.set(key, group);
      }
      return [...groups.values()].map((g) => ({ labels: g.labels, value: bucketQuantile(expr.q, g.buckets) }));
    }
    case 'compare':
      return evaluate(expr.expr, window, now).filter((p) => COMPARE[expr.op](p.value, expr.value));
  }
}

/**
 * Prometheus's `histogram_quantile` over cumulative buckets: linear interpolation inside the
 * bucket that holds the rank; the highest finite bound when the rank falls in `+Inf`; NaN
 * without a `+Inf` bucket or without observations.
 */
export function bucketQuantile(q: number, input: readonly { le: number; count: number }[]): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const merged = new Map<number, number>();
  for (const b of input) merged.set(b.le, (merged.get(b.le) ?? 0) + b.count);
  const buckets = [...merged.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  if (buckets.length < 2 || buckets.at(-1)!.le !== Infinity) return NaN;
  // Scrapes of different buckets are not atomic: make the counts monotonic, as Prometheus does.
  for (let i = 1; i < buckets.length; i++) if (buckets[i]!.count < buckets[i - 1]!.count) buckets[i]!.count = buckets[i - 1]!.count;
  const observations = buckets.at(-1)!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  const b = buckets.findIndex((bucket) => bucket.count >= rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.le;
  if (b === 0 && buckets[0]!.le <= 0) return buckets[0]!.le;
  let start = 0;
  let count = buckets[b]!.count;
  if (b > 0) {
    start = buckets[b - 1]!.le;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return start + (buckets[b]!.le - start) * (rank / count);
}

export { matches };

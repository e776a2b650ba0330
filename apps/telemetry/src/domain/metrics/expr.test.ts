import { describe, expect, it } from 'vitest';
import { bucketQuantile, evaluate, formatDuration, parseDuration, toPromQL, type Expr } from './expr.js';
import { createSampleWindow, type Sample } from './samples.js';

const t0 = Date.UTC(2026, 0, 1);
const s = (name: string, labels: Record<string, string>, value: number): Sample => ({ name, labels, value });
const start = (seconds: number): Sample => s('process_start_time_seconds', {}, seconds);

describe('durations', () => {
  it('round-trips Prometheus durations', () => {
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(1_250)).toBe('1s250ms');
    expect(formatDuration(0)).toBe('0s');
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    for (const bad of ['5', '5 m', 'm5', '', '1.5m', '-1s']) expect(parseDuration(bad), bad).toBeUndefined();
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });
});

describe('sample window', () => {
  it('computes increases per instance, across a counter reset, and never mixes instances', () => {
    const window = createSampleWindow({ retentionMs: 600_000, staleAfterMs: 600_000 });
    const c = (v: number) => s('calls_total', { code: 'OK' }, v);
    window.record('memory', t0, [start(100), c(10)]);
    window.record('memory', t0 + 10_000, [start(100), c(15)]);
    // A second replica answers in between: its counter is much higher; never subtracted from the first.
    window.record('memory', t0 + 15_000, [start(200), c(1000)]);
    window.record('memory', t0 + 20_000, [start(100), c(3)]); // reset: 15 -> 3 counts as +3
    window.record('memory', t0 + 25_000, [start(200), c(1010)]);
    const points = window.increase('calls_total', [], t0 + 25_000, 60_000);
    expect(points.map((p) => p.value).sort((a, b) => a - b)).toEqual([8, 10]);
    expect(points[0]!.labels).toEqual({ code: 'OK', service: 'memory' });
    // Only the last 10 s: the first instance has a single sample in it, the second has two.
    expect(window.increase('calls_total', [], t0 + 25_000, 10_000).map((p) => p.value)).toEqual([10]);
  });

  it('counts a series that appears after the first scrape from 0, as Prometheus with created timestamps would', () => {
    const window = createSampleWindow({ retentionMs: 600_000, staleAfterMs: 600_000 });
    window.record('audit', t0, [start(1)]);
    window.record('audit', t0 + 5000, [start(1), s('dead_letters_total', { topic: 't' }, 1)]);
    expect(window.increase('dead_letters_total', [], t0 + 5000, 60_000)).toEqual([{ labels: { topic: 't', service: 'audit' }, value: 1 }]);
    // A series present from the instance's first scrape needs two samples.
    const fresh = createSampleWindow({ retentionMs: 600_000, staleAfterMs: 600_000 });
    fresh.record('audit', t0, [start(1), s('dead_letters_total', { topic: 't' }, 7)]);
    expect(fresh.increase('dead_letters_total', [], t0, 60_000)).toEqual([]);
  });

  it('forgets instances not scraped within the staleness, and drops samples past the retention', () => {
    const window = createSampleWindow({ retentionMs: 30_000, staleAfterMs: 20_000 });
    window.record('gateway', t0, [start(1), s('g', {}, 1)]);
    window.record('gateway', t0 + 10_000, [start(2), s('g', {}, 2)]);
    expect(window.latest('g', [], t0 + 15_000).map((p) => p.value).sort()).toEqual([1, 2]);
    expect(window.latest('g', [], t0 + 25_000).map((p) => p.value)).toEqual([2]);
    expect(window.latest('g', [], t0 + 31_000)).toEqual([]);
    expect(window.services(t0 + 25_000)).toEqual(['gateway']);
  });

  it('answers only the series of the latest scrape, and ignores a scrape older than the last', () => {
    const window = createSampleWindow({ retentionMs: 600_000, staleAfterMs: 600_000 });
    window.record('gateway', t0, [start(1), s('jamey_degradation_level', { dependency: 'memory' }, 3), s('jamey_degradation_level', { dependency: 'soul' }, 0)]);
    window.record('gateway', t0 + 5000, [start(1), s('jamey_degradation_level', { dependency: 'soul' }, 1)]);
    window.record('gateway', t0 + 1000, [start(1), s('jamey_degradation_level', { dependency: 'soul' }, 9)]);
    expect(window.latest('jamey_degradation_level', [], t0 + 5000)).toEqual([{ labels: { dependency: 'soul', service: 'gateway' }, value: 1 }]);
    expect(window.latest('jamey_degradation_level', [{ label: 'dependency', op: '=~', value: 'mem.*' }], t0 + 5000)).toEqual([]);
  });

  it('keeps only the metric names it is told to', () => {
    const window = createSampleWindow({ retentionMs: 1000, staleAfterMs: 1000, keep: new Set(['a']) });
    window.record('soul', t0, [s('a', {}, 1), s('b', {}, 2)]);
    expect(window.latest('a', [], t0)).toHaveLength(1);
    expect(window.latest('b', [], t0)).toEqual([]);
  });
});

describe('histogram_quantile', () => {
  it('interpolates inside the bucket holding the rank, like Prometheus', () => {
    const buckets = [
      { le: 0.1, count: 50 },
      { le: 0.5, count: 90 },
      { le: 1, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(bucketQuantile(0.7, buckets)).toBeCloseTo(0.3);
    expect(bucketQuantile(0.99, buckets)).toBeCloseTo(0.95);
    expect(bucketQuantile(0.99, [{ le: 1, count: 1 }, { le: Infinity, count: 10 }])).toBe(1);
    expect(bucketQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeNaN();
    expect(bucketQuantile(0.5, [{ le: 1, count: 3 }])).toBeNaN();
  });
});

describe('expressions', () => {
  const window = createSampleWindow({ retentionMs: 600_000, staleAfterMs: 600_000 });
  const rpc = (service: string, code: string, v: number): Sample => s('rpc_count', { code, method: '/x.Y/Z' }, v);
  window.record('memory', t0, [start(1), rpc('memory', 'OK', 0), rpc('memory', 'UNAVAILABLE', 0)]);
  window.record('memory', t0 + 60_000, [start(1), rpc('memory', 'OK', 90), rpc('memory', 'UNAVAILABLE', 30)]);
  window.record('gateway', t0, [start(1), s('http_count', { status_code: '200' }, 0)]);
  window.record('gateway', t0 + 60_000, [start(1), s('http_count', { status_code: '200' }, 60)]);

  it('evaluates aggregation, division, or, and and comparison with PromQL semantics', () => {
    const errors: Expr = { kind: 'aggregate', op: 'sum', by: ['service'], expr: { kind: 'rate', metric: 'rpc_count', matchers: [{ label: 'code', op: '=~', value: 'UNAVAILABLE|INTERNAL' }], windowMs: 60_000 } };
    const total: Expr = {
      kind: 'or',
      left: { kind: 'aggregate', op: 'sum', by: ['service'], expr: { kind: 'rate', metric: 'rpc_count', matchers: [], windowMs: 60_000 } },
      right: { kind: 'aggregate', op: 'sum', by: ['service'], expr: { kind: 'rate', metric: 'http_count', matchers: [], windowMs: 60_000 } },
    };
    expect(evaluate(total, window, t0 + 60_000)).toEqual([
      { labels: { service: 'memory' }, value: 2 },
      { labels: { service: 'gateway' }, value: 1 },
    ]);
    const ratio: Expr = { kind: 'divide', left: errors, right: total };
    expect(evaluate(ratio, window, t0 + 60_000)).toEqual([{ labels: { service: 'memory' }, value: 0.25 }]);
    expect(evaluate({ kind: 'compare', op: '>', expr: ratio, value: 0.3 }, window, t0 + 60_000)).toEqual([]);
    const busy: Expr = { kind: 'and', left: total, right: { kind: 'compare', op: '>=', expr: total, value: 1.5 } };
    expect(evaluate(busy, window, t0 + 60_000).map((p) => p.labels['service'])).toEqual(['memory']);
    expect(toPromQL({ kind: 'compare', op: '>', expr: ratio, value: 0.3 })).toBe(
      '((sum by (service) (rate(rpc_count{code=~"UNAVAILABLE|INTERNAL"}[1m]))) / ((sum by (service) (rate(rpc_count[1m]))) or (sum by (service) (rate(http_count[1m]))))) > 0.3',
    );
  });
});

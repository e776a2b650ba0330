import { createManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import type { SystemHealth } from '../domain/health.js';
import { alignSeries, createStatusSnapshots, type StatusAlert, type StatusSample } from './snapshot.js';

const at = (seconds: number): Date => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

const health = (checkedAt: Date | undefined): SystemHealth => ({
  status: 'DEGRADED',
  checkedAt: at(100),
  services: [
    { service: 'memory', target: '127.0.0.1:1', status: 'DOWN', detail: 'connection refused', latencyMs: 3, checkedAt },
    { service: 'soul', target: '127.0.0.1:2', status: 'SERVING', detail: '', latencyMs: 1.5, checkedAt },
  ],
});

describe('alignSeries', () => {
  it('puts every series on the union of their times, with null where one has no sample', () => {
    const chart = alignSeries(
      [
        { label: 'soul', at: at(10), value: 2 },
        { label: 'memory', at: at(5), value: 1 },
        { label: 'memory', at: at(10), value: 3 },
        { label: 'soul', at: at(20), value: 4 },
      ],
      'req/s',
    );
    const t0 = at(0).getTime() / 1000;
    expect(chart).toEqual({
      unit: 'req/s',
      times: [t0 + 5, t0 + 10, t0 + 20],
      series: [
        { label: 'memory', values: [1, 3, null] },
        { label: 'soul', values: [null, 2, 4] },
      ],
    });
  });

  it('drops values that are not finite numbers (NaN from an empty histogram)', () => {
    expect(alignSeries([{ label: 'memory', at: at(1), value: Number.NaN }], 's').series).toEqual([]);
    expect(alignSeries([], 's')).toEqual({ unit: 's', times: [], series: [] });
  });
});

describe('createStatusSnapshots', () => {
  it('reports health alone when no other source exists yet', async () => {
    const clock = createManualClock(at(120).getTime());
    const snapshot = await createStatusSnapshots({ sources: { health: async () => health(undefined) }, clock })();
    expect(snapshot).toEqual({
      generatedAt: at(120).toISOString(),
      status: 'DEGRADED',
      services: [
        { service: 'memory', target: '127.0.0.1:1', status: 'DOWN', detail: 'connection refused', latencyMs: 3, checkedAt: null, dependencies: [] },
        { service: 'soul', target: '127.0.0.1:2', status: 'SERVING', detail: '', latencyMs: 1.5, checkedAt: null, dependencies: [] },
      ],
      alerts: [],
      windowMs: 1_800_000,
      charts: {
        requestRate: { unit: 'req/s', times: [], series: [] },
        errorRate: { unit: 'ratio', times: [], series: [] },
        p99Latency: { unit: 's', times: [], series: [] },
        phi: { unit: 'bits', times: [], series: [] },
      },
    });
  });

  it('joins dependencies, lists firing alerts most severe and oldest first, and charts the window', async () => {
    const clock = createManualClock(at(600).getTime());
    let since: Date | undefined;
    const alerts: StatusAlert[] = [
      { rule: 'HighErrorRate', service: 'soul', severity: 'warning', state: 'firing', summary: 'errors', since: at(10) },
      { rule: 'ServiceNotReady', service: 'memory', severity: 'critical', state: 'firing', summary: 'memory is not ready', since: at(50) },
      { rule: 'CircuitBreakerOpen', service: 'soul', severity: 'critical', state: 'firing', summary: 'open', since: at(20) },
      { rule: 'ServiceNotReady', service: 'audit', severity: 'critical', state: 'resolved', summary: 'audit is ready', since: at(5) },
    ];
    const samples: StatusSample[] = [
      { metric: 'request_rate', service: 'memory', at: at(500), value: 4 },
      { metric: 'error_rate', service: 'memory', at: at(500), value: 0.25 },
      { metric: 'p99_latency', service: 'soul', at: at(500), value: 0.012 },
      { metric: 'phi', service: 'consciousness', at: at(500), value: 0.7 },
    ];
    const snapshot = await createStatusSnapshots({
      clock,
      windowMs: 300_000,
      sources: {
        health: async () => health(at(590)),
        dependencies: async () =>
          new Map([
            [
              'soul',
              [
                { name: 'postgres', level: 'full', circuit: 'closed' },
                { name: 'kafka', level: 'degraded', circuit: 'open' },
              ],
            ],
          ]),
        alerts: async () => alerts,
        history: async (from) => {
          since = from;
          return samples;
        },
      },
    })();
    expect(since).toEqual(at(300));
    expect(snapshot.services[0]!.checkedAt).toBe(at(590).toISOString());
    expect(snapshot.services[0]!.dependencies).toEqual([]);
    expect(snapshot.services[1]!.dependencies.map((d) => d.name)).toEqual(['kafka', 'postgres']);
    expect(snapshot.alerts.map((a) => [a.rule, a.service, a.since])).toEqual([
      ['CircuitBreakerOpen', 'soul', at(20).toISOString()],
      ['ServiceNotReady', 'memory', at(50).toISOString()],
      ['HighErrorRate', 'soul', at(10).toISOString()],
    ]);
    expect(snapshot.windowMs).toBe(300_000);
    expect(snapshot.charts.requestRate.series).toEqual([{ label: 'memory', values: [4] }]);
    expect(snapshot.charts.errorRate.series).toEqual([{ label: 'memory', values: [0.25] }]);
    expect(snapshot.charts.p99Latency.series).toEqual([{ label: 'soul', values: [0.012] }]);
    expect(snapshot.charts.phi).toEqual({ unit: 'bits', times: [at(500).getTime() / 1000], series: [{ label: 'Φ', values: [0.7] }] });
  });

  it('fails when a source fails, rather than showing a partial picture as if it were whole', async () => {
    const snapshots = createStatusSnapshots({
      clock: createManualClock(),
      sources: {
        health: async () => health(undefined),
        alerts: async () => {
          throw new Error('alert store unreachable');
        },
      },
    });
    await expect(snapshots()).rejects.toThrow('alert store unreachable');
  });
});

import { createManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { createHistoryRecorder, type HistoryPoint, type MetricHistoryStore } from './history.js';
import { createSampleWindow, type Sample } from './samples.js';

function memoryStore(): MetricHistoryStore & { points: HistoryPoint[]; prunedBefore: Date[] } {
  const points: HistoryPoint[] = [];
  const prunedBefore: Date[] = [];
  return {
    points,
    prunedBefore,
    async record(batch, before) {
      points.push(...batch);
      prunedBefore.push(before);
    },
    async query() {
      return points;
    },
  };
}

const start: Sample = { name: 'process_start_time_seconds', labels: {}, value: 1 };
const rpc = (code: string, le: string | undefined, value: number): Sample =>
  le === undefined
    ? { name: 'rpc_server_call_duration_seconds_count', labels: { method: '/m', code }, value }
    : { name: 'rpc_server_call_duration_seconds_bucket', labels: { method: '/m', code, le }, value };

describe('history recorder', () => {
  it('stores request rate, error rate, p99 and phi per service at the start of the interval', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1, 12, 0, 30));
    const window = createSampleWindow({ retentionMs: 600_000, staleAfterMs: 300_000 });
    const store = memoryStore();
    const recorder = createHistoryRecorder({ window, store, clock, intervalMs: 60_000, retentionMs: 3_600_000 });
    const t0 = clock.now() - 60_000;
    window.record('memory', t0, [start, rpc('OK', undefined, 0), rpc('INTERNAL', undefined, 0), rpc('OK', '0.1', 0), rpc('OK', '+Inf', 0), rpc('INTERNAL', '0.1', 0), rpc('INTERNAL', '+Inf', 0)]);
    window.record('memory', clock.now(), [start, rpc('OK', undefined, 90), rpc('INTERNAL', undefined, 30), rpc('OK', '0.1', 90), rpc('OK', '+Inf', 90), rpc('INTERNAL', '0.1', 0), rpc('INTERNAL', '+Inf', 30)]);
    window.record('consciousness', clock.now(), [start, { name: 'jamey_consciousness_phi_bits', labels: { stream: 'workspace' }, value: 0.42 }]);
    // A service that served nothing: a request rate of 0, and no error rate or p99 (a gap, not 0).
    window.record('soul', t0, [start, rpc('OK', undefined, 5)]);
    window.record('soul', clock.now(), [start, rpc('OK', undefined, 5)]);

    const points = await recorder.recordOnce();
    const at = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
    const byKey = Object.fromEntries(points.map((p) => [`${p.service}/${p.metric}`, p]));
    expect(Object.keys(byKey).sort()).toEqual(['consciousness/phi', 'memory/error_rate', 'memory/p99_latency', 'memory/request_rate', 'soul/request_rate']);
    expect(byKey['memory/request_rate']).toEqual({ service: 'memory', metric: 'request_rate', at, value: 2 });
    expect(byKey['memory/error_rate']!.value).toBeCloseTo(0.25);
    // 120 calls: 90 under 0.1 s, 30 above it; the 99th percentile falls in +Inf: the highest finite bound.
    expect(byKey['memory/p99_latency']!.value).toBe(0.1);
    expect(byKey['consciousness/phi']!.value).toBe(0.42);
    expect(byKey['soul/request_rate']!.value).toBe(0);
    expect(store.prunedBefore).toEqual([new Date(clock.now() - 3_600_000)]);
  });
});

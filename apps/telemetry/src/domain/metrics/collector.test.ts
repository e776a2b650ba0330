import { createManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { createMetricsCollector } from './collector.js';
import { createSampleWindow, type Sample } from './samples.js';

const breaker = (process: number, dependency: string, state: string, level: number): Sample[] => [
  { name: 'process_start_time_seconds', labels: {}, value: process },
  ...['closed', 'open', 'half-open'].map((s) => ({ name: 'jamey_circuit_breaker_state', labels: { dependency, state: s }, value: s === state ? 1 : 0 })),
  { name: 'jamey_degradation_level', labels: { dependency }, value: level },
];

describe('metrics collector', () => {
  it("reads each service's dependencies, the worst state when replicas disagree, and records up", async () => {
    const clock = createManualClock();
    const window = createSampleWindow({ retentionMs: 60_000, staleAfterMs: 60_000 });
    let replica = 0;
    const collector = createMetricsCollector({
      window,
      clock,
      scrapeTimeoutMs: 50,
      targets: [
        // Two replicas behind one address answer in turn.
        { service: 'gateway', target: 'g', scrape: async () => (replica++ % 2 === 0 ? breaker(1, 'memory', 'closed', 0) : breaker(2, 'memory', 'open', 3)) },
        { service: 'soul', target: 's', scrape: () => Promise.reject(new Error('fetch failed')) },
        { service: 'audit', target: 'a', scrape: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))) },
      ],
    });
    await collector.collectOnce();
    clock.advance(1000);
    const results = await collector.collectOnce();
    expect(results.map((r) => [r.service, r.error])).toEqual([
      ['gateway', undefined],
      ['soul', 'fetch failed'],
      ['audit', 'scrape timed out after 50 ms'],
    ]);
    expect(collector.view('gateway')).toEqual({ dependencies: [{ name: 'memory', level: 'offline', circuit: 'open' }], scrapedAt: new Date(clock.now()), error: undefined });
    expect(collector.view('soul')).toEqual({ dependencies: [], scrapedAt: undefined, error: 'fetch failed' });
    expect(window.latest('up', [], clock.now()).map((p) => [p.labels['service'], p.value])).toEqual([
      ['gateway', 1],
      ['soul', 0],
      ['audit', 0],
    ]);
  });

  it('stops at once when its round is aborted', async () => {
    const controller = new AbortController();
    const collector = createMetricsCollector({
      window: createSampleWindow({ retentionMs: 1000, staleAfterMs: 1000 }),
      clock: createManualClock(),
      scrapeTimeoutMs: 60_000,
      targets: [{ service: 'memory', target: 'm', scrape: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))) }],
    });
    const round = collector.collectOnce(controller.signal);
    controller.abort(new Error('stopping'));
    await expect(round).rejects.toThrow('stopping');
  });
});

import { createManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { createTelemetryStatusSources, type FiringAlert } from './sources.js';

const at = new Date(Date.UTC(2026, 0, 1, 12));

const alert = (overrides: Partial<FiringAlert>): FiringAlert => ({
  rule: 'ServiceNotReady',
  severity: 'critical',
  labels: { service: 'memory' },
  summary: 'memory is not ready',
  activeAt: new Date(at.getTime() - 60_000),
  firedAt: at,
  ...overrides,
});

describe('createTelemetryStatusSources', () => {
  const clock = createManualClock(at.getTime());
  let listed: { states: readonly string[]; limit: number } | undefined;
  let queried: { since: Date; until: Date } | undefined;
  const sources = createTelemetryStatusSources({
    monitor: { systemHealth: async () => ({ status: 'SERVING', services: [], checkedAt: at }) },
    services: ['memory', 'soul'],
    metricsView: (service) => ({
      dependencies: service === 'memory' ? [{ name: 'postgres', level: undefined, circuit: 'open' }] : [],
      scrapedAt: at,
      error: undefined,
    }),
    alerts: {
      list: async (states, limit) => {
        listed = { states, limit };
        return [alert({}), alert({ rule: 'CircuitBreakerOpen', labels: { dependency: 'kafka' }, firedAt: undefined })];
      },
    },
    history: {
      query: async (query) => {
        queried = query;
        return [{ service: 'memory', metric: 'request_rate', at, value: 2 }];
      },
    },
    clock,
  });

  it('lists firing alerts with their service label and when they fired', async () => {
    expect(await sources.alerts!()).toEqual([
      { rule: 'ServiceNotReady', service: 'memory', severity: 'critical', state: 'firing', summary: 'memory is not ready', since: at },
      // No `service` label: the first label names it; not fired yet: the start of its condition.
      { rule: 'CircuitBreakerOpen', service: 'kafka', severity: 'critical', state: 'firing', summary: 'memory is not ready', since: new Date(at.getTime() - 60_000) },
    ]);
    expect(listed).toEqual({ states: ['firing'], limit: 100 });
  });

  it("shows each service's scraped dependencies, unknown where it exports no level or breaker", async () => {
    expect(await sources.dependencies!()).toEqual(
      new Map([
        ['memory', [{ name: 'postgres', level: 'unknown', circuit: 'open' }]],
        ['soul', []],
      ]),
    );
  });

  it('reads the history from `since` up to now', async () => {
    const since = new Date(at.getTime() - 1_800_000);
    expect(await sources.history!(since)).toEqual([{ service: 'memory', metric: 'request_rate', at, value: 2 }]);
    expect(queried!.since).toEqual(since);
    expect(queried!.until.getTime()).toBeGreaterThan(at.getTime());
  });
});

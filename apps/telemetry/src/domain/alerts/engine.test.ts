import { createIdGenerator, createManualClock, createSeededRandom, type ManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { createSampleWindow, type Sample, type SampleWindow } from '../metrics/samples.js';
import type { Alert } from './alert.js';
import { createAlertEngine, type AlertChange, type AlertStore } from './engine.js';
import { validateAlertRules, type AlertRule } from './rules.js';

/** An in-memory store with the Postgres store's semantics (one row per fingerprint, optimistic updates). */
function createMemoryStore(): AlertStore & { rows: Map<string, Alert>; published: AlertChange[] } {
  const rows = new Map<string, Alert>();
  const published: AlertChange[] = [];
  return {
    rows,
    published,
    async active() {
      return [...rows.values()].filter((a) => a.state !== 'resolved');
    },
    async apply(changes) {
      const applied: AlertChange[] = [];
      for (const change of changes) {
        const row = rows.get(change.alert.fingerprint);
        const ok = change.expectedUpdatedAt === undefined ? row === undefined || row.state === 'resolved' : row?.updatedAt.getTime() === change.expectedUpdatedAt.getTime();
        if (!ok) continue;
        if (change.transition === 'dropped') rows.delete(change.alert.fingerprint);
        else rows.set(change.alert.fingerprint, change.alert);
        if (change.transition === 'fired' || change.transition === 'resolved') published.push(change);
        applied.push(change);
      }
      return applied;
    },
    async list(states, limit) {
      return [...rows.values()].filter((a) => states.includes(a.state)).slice(0, limit);
    },
  };
}

const rulesOf = (rules: object[]): readonly AlertRule[] =>
  validateAlertRules(
    { rules: rules.map((r) => ({ severity: 'critical', summary: '{{ $labels.service }} breaker to {{ $labels.dependency }} open', description: 'value {{ $value }}', ...r })) },
    'test',
  );

const breaker = (dependency: string, open: boolean): Sample[] =>
  ['closed', 'open'].map((state) => ({ name: 'jamey_circuit_breaker_state', labels: { dependency, state }, value: (state === 'open') === open ? 1 : 0 }));

function setup(rules: readonly AlertRule[]): { clock: ManualClock; window: SampleWindow; store: ReturnType<typeof createMemoryStore>; engine: ReturnType<typeof createAlertEngine> } {
  const clock = createManualClock();
  const window = createSampleWindow({ retentionMs: 3_600_000, staleAfterMs: 300_000 });
  const store = createMemoryStore();
  const engine = createAlertEngine({ rules, services: ['gateway', 'memory'], window, store, clock, ids: createIdGenerator(clock, createSeededRandom(7)) });
  return { clock, window, store, engine };
}

describe('alert lifecycle', () => {
  it('goes pending, fires after `for`, stays one alert per labels, and resolves', async () => {
    const { clock, window, store, engine } = setup(rulesOf([{ alert: 'BreakerOpen', kind: 'breaker_open', for: '1m' }]));
    const scrape = (open: boolean): void => window.record('gateway', clock.now(), [{ name: 'process_start_time_seconds', labels: {}, value: 1 }, ...breaker('memory', open), ...breaker('soul', false)]);

    scrape(false);
    expect(await engine.evaluateOnce()).toEqual([]);

    clock.advance(5000);
    scrape(true);
    let changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.state, c.alert.labels])).toEqual([['pending', 'pending', { service: 'gateway', dependency: 'memory' }]]);
    const pending = changes[0]!.alert;
    expect(pending.summary).toBe('gateway breaker to memory open');

    // Held for 59 s: still pending, nothing published.
    clock.advance(59_000);
    scrape(true);
    expect(await engine.evaluateOnce()).toEqual([]);
    expect(store.published).toEqual([]);

    clock.advance(1000);
    scrape(true);
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => c.transition)).toEqual(['fired']);
    expect(changes[0]!.alert).toMatchObject({ id: pending.id, fingerprint: pending.fingerprint, state: 'firing', activeAt: pending.activeAt, firedAt: new Date(clock.now()) });

    // Still holding: no new alert, no new event (deduplicated by fingerprint).
    clock.advance(5000);
    scrape(true);
    expect(await engine.evaluateOnce()).toEqual([]);
    expect(store.rows.size).toBe(1);

    clock.advance(5000);
    scrape(false);
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.state])).toEqual([['resolved', 'resolved']]);
    expect(changes[0]!.alert.resolvedAt).toEqual(new Date(clock.now()));
    expect(store.published.map((c) => c.transition)).toEqual(['fired', 'resolved']);

    // Holding again is a new episode of the same alert: same fingerprint, new id, pending again.
    clock.advance(5000);
    scrape(true);
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => c.transition)).toEqual(['pending']);
    expect(changes[0]!.alert.fingerprint).toBe(pending.fingerprint);
    expect(changes[0]!.alert.id).not.toBe(pending.id);
    expect(changes[0]!.alert.firedAt).toBeUndefined();
  });

  it('drops a pending alert whose condition stops before `for`, without publishing', async () => {
    const { clock, window, store, engine } = setup(rulesOf([{ alert: 'BreakerOpen', kind: 'breaker_open', for: '1m' }]));
    window.record('memory', clock.now(), breaker('postgres', true));
    expect((await engine.evaluateOnce()).map((c) => c.transition)).toEqual(['pending']);
    clock.advance(30_000);
    window.record('memory', clock.now(), breaker('postgres', false));
    expect((await engine.evaluateOnce()).map((c) => c.transition)).toEqual(['dropped']);
    expect(store.rows.size).toBe(0);
    expect(store.published).toEqual([]);
  });

  it('fires at once with `for: 0s`, and keeps the value and texts of a firing alert current', async () => {
    const { clock, window, engine } = setup(
      rulesOf([{ alert: 'DeadLetters', kind: 'dead_letter_growth', window: '10m', threshold: 0, for: '0s', summary: '{{ $value }} dead letters on {{ $labels.topic }}' }]),
    );
    const dlq = (n: number): Sample[] => [{ name: 'process_start_time_seconds', labels: {}, value: 1 }, ...(n > 0 ? [{ name: 'jamey_kafka_dead_letters_total', labels: { group: 'audit', topic: 'jamey.memory.events.v1', reason: 'unknown_type' }, value: n }] : [])];
    window.record('audit', clock.now(), dlq(0));
    expect(await engine.evaluateOnce()).toEqual([]);
    clock.advance(5000);
    window.record('audit', clock.now(), dlq(1));
    let changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.value, c.alert.summary, c.alert.labels])).toEqual([
      ['fired', 1, '1 dead letters on jamey.memory.events.v1', { service: 'audit', group: 'audit', topic: 'jamey.memory.events.v1' }],
    ]);
    clock.advance(5000);
    window.record('audit', clock.now(), dlq(3));
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.value, c.alert.summary])).toEqual([['updated', 3, '3 dead letters on jamey.memory.events.v1']]);
    // Ten quiet minutes later the window holds no growth: resolved.
    for (let i = 0; i < 121; i++) {
      clock.advance(5000);
      window.record('audit', clock.now(), dlq(3));
    }
    changes = await engine.evaluateOnce();
    expect(changes.map((c) => c.transition)).toEqual(['resolved']);
  });

  it('fires service_not_ready from a failed scrape, and resolves alerts of rules that left the file', async () => {
    const rules = rulesOf([{ alert: 'NotReady', kind: 'service_not_ready', for: '0s', summary: '{{ $labels.service }} is not ready' }]);
    const { clock, window, store } = setup(rules);
    const engine = createAlertEngine({ rules, services: ['gateway', 'memory'], window, store, clock, ids: createIdGenerator(clock, createSeededRandom(7)) });
    window.record('memory', clock.now(), [{ name: 'up', labels: {}, value: 0 }], 'target');
    window.record('gateway', clock.now(), [{ name: 'up', labels: {}, value: 1 }], 'target');
    const changes = await engine.evaluateOnce();
    expect(changes.map((c) => [c.transition, c.alert.summary])).toEqual([['fired', 'memory is not ready']]);

    const without = createAlertEngine({ rules: rulesOf([{ alert: 'Other', kind: 'breaker_open', for: '1m' }]), services: [], window, store, clock, ids: createIdGenerator(clock, createSeededRandom(7)) });
    clock.advance(1000);
    expect((await without.evaluateOnce()).map((c) => [c.transition, c.alert.rule])).toEqual([['resolved', 'NotReady']]);
  });

  it('counts only required readiness checks: an open optional breaker check degrades, a failing database check is not ready', async () => {
    const { clock, window, engine } = setup(rulesOf([{ alert: 'NotReady', kind: 'service_not_ready', for: '0s', summary: '{{ $labels.service }} is not ready' }]));
    const ready = (service: string, checks: Record<string, number>): void =>
      window.record(service, clock.now(), [{ name: 'process_start_time_seconds', labels: {}, value: 1 }, ...Object.entries(checks).map(([check, value]) => ({ name: 'jamey_readiness_check_up', labels: { check }, value }))]);
    ready('gateway', { memory: 0, soul: 1 });
    ready('memory', { database: 0, broker: 1 });
    expect((await engine.evaluateOnce()).map((c) => [c.transition, c.alert.labels])).toEqual([['fired', { service: 'memory' }]]);
  });

  it('applies nothing another replica changed first', async () => {
    const { clock, window, store, engine } = setup(rulesOf([{ alert: 'BreakerOpen', kind: 'breaker_open', for: '0s' }]));
    window.record('gateway', clock.now(), breaker('memory', true));
    await engine.evaluateOnce();
    // Another replica changes the row between this replica's read and its write.
    const read = store.active.bind(store);
    store.active = async () => {
      const active = await read();
      const row = active[0]!;
      store.rows.set(row.fingerprint, { ...row, updatedAt: new Date(clock.now() + 1) });
      return active;
    };
    clock.advance(1000);
    window.record('gateway', clock.now(), breaker('memory', false));
    expect(await engine.evaluateOnce()).toEqual([]);
    expect(store.published.map((c) => c.transition)).toEqual(['fired']);
  });
});

describe('counter_rate', () => {
  const authFailures = rulesOf([
    {
      alert: 'AuthFailures',
      kind: 'counter_rate',
      window: '1m',
      threshold: 0.5,
      for: '0s',
      by: ['service'],
      signals: [
        { metric: 'jamey_security_refusals_total', matchers: { outcome: 'unauthenticated' } },
        { metric: 'http_server_request_duration_seconds_count', matchers: { status_code: '401' } },
      ],
      summary: '{{ $labels.service }} refuses {{ $value }}/s',
    },
  ]);
  const started = (seconds: number): Sample => ({ name: 'process_start_time_seconds', labels: {}, value: seconds });
  const refused = (outcome: string, value: number): Sample => ({ name: 'jamey_security_refusals_total', labels: { outcome, reason: 'malformed' }, value });
  const http = (status: string, value: number): Sample => ({ name: 'http_server_request_duration_seconds_count', labels: { method: 'GET', route: '/v1/memories/:id', status_code: status }, value });

  it('measures the rate per service over its window, across a restart and a counter reset, and resolves once the window is quiet', async () => {
    const { clock, window, store, engine } = setup(authFailures);
    const at = (seconds: number, samples: Sample[]): Promise<readonly AlertChange[]> => {
      clock.advance(seconds * 1000 - clock.now());
      window.record('memory', clock.now(), samples);
      return engine.evaluateOnce();
    };
    const value = () => [...store.rows.values()][0]?.value;

    // Denied calls are another outcome; the unauthenticated series appears later, growing from 0.
    expect(await at(0, [started(1), refused('denied', 50)])).toEqual([]);
    expect(await at(10, [started(1), refused('denied', 80), refused('unauthenticated', 20)])).toEqual([]); // 20/60 s
    const fired = await at(20, [started(1), refused('denied', 80), refused('unauthenticated', 35)]);
    expect(fired.map((c) => [c.transition, c.alert.labels, c.alert.summary])).toEqual([['fired', { service: 'memory' }, `memory refuses ${35 / 60}/s`]]);
    expect(value()).toBeCloseTo(35 / 60);

    // Memory restarts: the new process's counter is never subtracted from the old one's; its first
    // scrape is its baseline, so until its second the old process's 35 is all there is.
    expect(await at(30, [started(2), refused('unauthenticated', 10)])).toEqual([]);
    await at(40, [started(2), refused('unauthenticated', 16)]);
    expect(value()).toBeCloseTo((35 + 6) / 60);
    // A drop within one process is a reset: it restarted from 0 and grew by 4.
    await at(50, [started(2), refused('unauthenticated', 4)]);
    expect(value()).toBeCloseTo((35 + 6 + 4) / 60);
    expect(store.published.map((c) => c.transition)).toEqual(['fired']);

    // At 70 s the window [10 s, 70 s] holds 15 (old process, 10 s → 20 s) + 6 + 4 of the new one:
    // 25/60 is below 0.5/s.
    await at(60, [started(2), refused('unauthenticated', 4)]);
    expect(value()).toBeCloseTo(45 / 60);
    const resolved = await at(70, [started(2), refused('unauthenticated', 4)]);
    expect(resolved.map((c) => c.transition)).toEqual(['resolved']);
    expect(store.published.map((c) => c.transition)).toEqual(['fired', 'resolved']);
  });

  it("falls back to the gateway's HTTP 401s, and prefers a service's own refusals counter where it has one", async () => {
    const { clock, window, store, engine } = setup(authFailures);
    const gateway = (samples: Sample[]): Promise<readonly AlertChange[]> => {
      window.record('gateway', clock.now(), [started(3), ...samples]);
      return engine.evaluateOnce();
    };
    expect(await gateway([http('200', 1000), http('401', 0)])).toEqual([]);
    clock.advance(10_000);
    // Exactly 0.5/s is not above the threshold; other status codes do not count.
    expect(await gateway([http('200', 9000), http('401', 30)])).toEqual([]);
    clock.advance(10_000);
    const fired = await gateway([http('200', 9000), http('401', 61)]);
    expect(fired.map((c) => [c.transition, c.alert.labels])).toEqual([['fired', { service: 'gateway' }]]);
    expect(fired[0]!.alert.value).toBeCloseTo(61 / 60);

    // Once the gateway counts its refusals itself, that counter is read and the 401s are not added.
    clock.advance(10_000);
    const changes = await gateway([http('200', 9000), http('401', 200), refused('unauthenticated', 6)]);
    expect(changes.map((c) => c.transition)).toEqual(['resolved']);
    expect(store.rows.size).toBe(1);
  });
});
